"""JSON Lines exports (one page per line), plain or gzipped.

Crawler and dataset exports (Common Crawl derivatives, scraper dumps) store one
page per line with its ``html`` or already-extracted ``text``, and often ``url``
and ``lang``. Each line becomes one RawInput whose offset is the line number
(1-based), so ``file.jsonl@17`` points at line 17; a bad line becomes a failed
RawInput and the rest of the file is still read.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ...config import Config
from ...types import RawInput

_PROBE_LINES = 100
_URL_KEYS = ("url", "target_uri", "warc_target_uri")
_LANG_KEYS = ("lang", "language")
_DATE_KEYS = ("fetch_date", "date", "crawl_date", "timestamp")


def _first_str(rec: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = rec.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _read_line(fh: IO[bytes], max_bytes: int) -> tuple[bytes, bool]:
    """One line, or (b"", True) after skipping to the end of a line longer than max_bytes."""
    line = fh.readline(max_bytes + 1)
    if len(line) <= max_bytes or line.endswith(b"\n"):
        return line, False
    while True:  # drain the rest of the oversized line without keeping it
        rest = fh.readline(1 << 20)
        if not rest or rest.endswith(b"\n"):
            return b"", True


def iter_jsonl(path: Path, cfg: Config) -> Iterator[RawInput]:
    """One RawInput per non-blank line: ``html`` (bytes, UTF-8) or ``text`` (str)."""
    source = str(path)
    max_bytes = int(cfg.scan.max_bytes)
    lineno = 0
    held: list[RawInput] | None = []  # records before the first page, until we know it is a page export
    try:
        fh = _open(path)
    except OSError as exc:
        yield RawInput(source=source, media="unknown", status="failed", reason="unreadable",
                       detail=f"{source}: {exc.strerror or exc}")
        return
    with fh:
        while True:
            try:
                line, too_long = _read_line(fh, max_bytes)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                if held:
                    yield from held
                yield RawInput(source=source, media="unknown", offset=lineno + 1, status="failed",
                               reason="truncated",
                               detail=f"{source}: compressed stream broken after line {lineno}: {exc}")
                return
            lineno += 1
            if too_long:
                rec = RawInput(source=source, media="unknown", offset=lineno, status="skipped",
                               reason="too_large",
                               detail=f"{source}: line {lineno} is longer than [scan] max_bytes = {max_bytes}")
            elif not line:
                break
            elif not line.strip():
                continue
            else:
                rec = _record(source, lineno, line)
            if held is None:
                yield rec
                continue
            held.append(rec)
            if rec.status == "ok":
                yield from held
                held = None
            elif len(held) >= _PROBE_LINES:
                if _not_pages(held):
                    yield _not_pages_input(source, len(held))
                    return
                yield from held
                held = None
    if held:
        if _not_pages(held):
            yield _not_pages_input(source, len(held))
        else:
            yield from held


def _not_pages(held: list[RawInput]) -> bool:
    return all(r.reason in ("bad_record", "empty") for r in held)


def _not_pages_input(source: str, n: int) -> RawInput:
    # No line has a page: a manifest or label file, not a page export. One record, not one per line.
    return RawInput(source=source, media="unknown", status="skipped", reason="unsupported_type",
                    detail=(f"{source}: JSONL without 'html' or 'text' fields in its first {n} records "
                            "(a label or manifest file, not pages)"))


def _record(source: str, lineno: int, line: bytes) -> RawInput:
    def bad(reason: str, why: str) -> RawInput:
        return RawInput(source=source, media="unknown", offset=lineno, status="failed", reason=reason,
                        detail=f"{source}: line {lineno}: {why}")

    try:
        rec = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return bad("bad_encoding", f"not UTF-8 ({exc.reason} at byte {exc.start})")
    except json.JSONDecodeError as exc:
        return bad("bad_json", f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(rec, dict):
        return bad("bad_record", f"expected a JSON object, got {type(rec).__name__}")
    common = dict(
        source=source,
        offset=lineno,
        url=_first_str(rec, _URL_KEYS),
        lang_hint=_first_str(rec, _LANG_KEYS),
        fetch_date=_first_str(rec, _DATE_KEYS),
    )
    html, text = rec.get("html"), rec.get("text")
    if isinstance(html, str) and html.strip():
        # Already decoded by whoever wrote the file: re-encode as UTF-8 and say so, so
        # the decoder does not follow a stale <meta charset> inside the markup.
        return RawInput(media="html", data=html.encode("utf-8", "replace"), http_charset="utf-8", **common)
    if isinstance(text, str) and text.strip():
        return RawInput(media="text", data=text, **common)
    if "html" in rec or "text" in rec:
        return RawInput(media="unknown", status="skipped", reason="empty",
                        detail=f"{source}: line {lineno}: 'html'/'text' is empty", **common)
    return bad("bad_record", "no 'html' or 'text' field")
