"""Readers: files, folders, WARC/ARC archives and JSONL exports -> ``RawInput`` records.

``iter_inputs`` is the only entry point the scan needs. It walks the given paths
in a deterministic order, sniffs each file (magic bytes before extension) and
yields one RawInput per document: a file, a WARC record, or a JSONL line. It
never raises for bad input: a missing path, an unreadable file, a 0-byte file,
binary junk named ``.html`` or an oversized file each become a RawInput with
``status`` skipped/failed, a ``reason`` code and a ``detail`` sentence.

Decoding HTML bytes and reading PDFs is the worker's job (``read.charset.decode_html``,
``extract.pdf.extract_pdf``): readers pass ``media="html"|"pdf"`` with bytes.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...config import Config
from ...types import RawInput
from .discover import HEAD_BYTES, looks_binary, read_gzip_capped, sniff, walk
from .jsonl import iter_jsonl
from .text import read_text
from .warc import iter_warc

__all__ = ["iter_inputs", "read_file"]


def iter_inputs(paths: list[str | Path], cfg: Config) -> Iterator[RawInput]:
    """Every input unit under ``paths`` (files or folders), in sorted order.

    ``cfg.scan.max_bytes`` caps single documents (and each WARC record or
    JSONL line), checked with ``stat`` before anything is read; archives and
    JSONL files themselves may be larger. ``cfg.scan.follow_symlinks``
    decides whether symlinks inside folders are followed.
    """
    follow = bool(cfg.scan.follow_symlinks)
    for item in walk(list(paths), follow_symlinks=follow):
        if isinstance(item, RawInput):
            yield item
        else:
            yield from read_file(item.path, cfg, size=item.size)


def _problem(path: Path, status: str, reason: str, detail: str, **meta: Any) -> RawInput:
    return RawInput(source=str(path), media="unknown", status=status, reason=reason,  # type: ignore[arg-type]
                    detail=f"{path}: {detail}", meta=meta)


def read_file(path: Path, cfg: Config, size: int | None = None) -> Iterator[RawInput]:
    """The RawInput(s) of one regular file. Never raises for bad data."""
    max_bytes = int(cfg.scan.max_bytes)
    try:
        if size is None:
            size = path.stat().st_size
        if size == 0:
            yield _problem(path, "skipped", "empty", "the file is empty (0 bytes)")
            return
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        yield _problem(path, "failed", "unreadable", f"cannot read: {exc.strerror or exc}")
        return

    kind = sniff(path, head)
    if kind in ("warc", "arc"):
        yield from iter_warc(path, cfg)
        return
    if kind == "jsonl":
        yield from iter_jsonl(path, cfg)
        return
    if kind == "unknown":
        yield _problem(path, "skipped", "unsupported_type", "not HTML, PDF, text, JSONL or WARC (by content and extension)")
        return
    if size > max_bytes:
        yield _problem(path, "skipped", "too_large", f"{size} bytes, over [scan] max_bytes = {max_bytes}", bytes=size)
        return
    if kind == "binary":
        yield _problem(path, "failed", "binary",
                       "named like a text/HTML document but its bytes are binary (NUL or control characters)")
        return
    try:
        if kind == "html.gz":
            data = read_gzip_capped(path, max_bytes)
            if data is None:
                yield _problem(path, "skipped", "too_large",
                               f"decompresses to more than [scan] max_bytes = {max_bytes}")
                return
            if looks_binary(data[:HEAD_BYTES]):
                yield _problem(path, "failed", "binary", "the decompressed bytes are not text")
                return
            kind = "html"
        else:
            data = path.read_bytes()
    except (OSError, EOFError) as exc:
        reason = "truncated" if isinstance(exc, EOFError) else "unreadable"
        yield _problem(path, "failed", reason, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if not data.strip():
        yield _problem(path, "skipped", "empty", "the file holds only whitespace")
        return
    source = str(path)
    side = sidecar(path)
    if kind == "html":
        raw = RawInput(source=source, media="html", data=data)
    elif kind == "pdf":
        raw = RawInput(source=source, media="pdf", data=data)
    else:  # text, markdown
        raw = read_text(path, data, media=kind)
    if side.get("url") and not raw.url:
        raw.url = side["url"]
    if side.get("site"):
        raw.meta["site"] = side["site"]
    yield raw


SIDECAR_SUFFIX = ".meta.json"


def sidecar(path: Path) -> dict[str, str]:
    """``url`` and ``site`` from ``<file>.meta.json`` beside a file, when there is one.

    A downloaded report or a saved page has no address of its own; the sidecar
    gives it one, so that it joins its organisation's other pages.  A sidecar
    that cannot be read is ignored with the file still scanned (as its own source).
    """
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.is_file():
        return {}
    import json

    try:
        obj = json.loads(side.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(obj, dict):
        return {}
    return {k: obj[k].strip() for k in ("url", "site") if isinstance(obj.get(k), str) and obj[k].strip()}
