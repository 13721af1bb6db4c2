"""Find input files and decide what each one is.

Crawls arrive as folder trees with misleading names: ``index.php?id=3`` that is
HTML, ``.html`` files that are really images or error blobs, WARCs without
extension, gzipped pages. We walk folders in a sorted, deterministic order and
sniff each file by its first bytes before trusting its extension. Every path
either yields a file to read or a recorded problem (missing, unreadable,
symlink not followed) - never an exception.
"""
from __future__ import annotations

import gzip
import os
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...types import RawInput

HEAD_BYTES = 8192

_HTML_EXT = {".html", ".htm", ".xhtml", ".shtml"}
_TEXT_EXT = {".txt", ".text"}
_MD_EXT = {".md", ".markdown"}
_JSONL_EXT = {".jsonl", ".ndjson"}
_WARC_EXT = {".warc", ".arc"}
# Extensions that are certainly not documents for us: no point sniffing them.
_OTHER_EXT = {
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".tif", ".tiff",
    ".css", ".js", ".mjs", ".json", ".xml", ".csv", ".tsv", ".zip", ".tar", ".7z", ".rar",
    ".mp3", ".mp4", ".webm", ".avi", ".mov", ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".exe", ".dll", ".so", ".bin",
    ".py", ".pyc", ".sqlite", ".db", ".parquet", ".npy",
}

_HTML_START_RE = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|"
    rb"div|p|table|h[1-6]|script|link|style)\b",
    re.I | re.S,
)

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(slots=True)
class Found:
    """A regular file found by the walk (``path`` as the user would write it)."""

    path: Path
    size: int


def _problem(path: Path | str, status: str, reason: str, detail: str) -> RawInput:
    return RawInput(source=str(path), media="unknown", status=status, reason=reason, detail=detail)  # type: ignore[arg-type]


def walk(paths: list[str | Path], follow_symlinks: bool = False) -> Iterator[Found | RawInput]:
    """Regular files under ``paths`` in sorted order, or a RawInput naming a problem.

    Paths given on the command line are followed even when they are symlinks (the
    user named them); inside folders, ``follow_symlinks`` decides. Symlink loops
    are cut by remembering visited directories.
    """
    seen_dirs: set[tuple[int, int]] = set()
    for top in paths:
        p = Path(top)
        try:
            st = p.stat()
        except FileNotFoundError:
            if p.is_symlink():
                yield _problem(p, "failed", "unreadable", f"{p}: broken symlink (target does not exist)")
            else:
                yield _problem(p, "failed", "unreadable", f"{p}: no such file or directory")
            continue
        except OSError as exc:
            yield _problem(p, "failed", "unreadable", f"{p}: cannot stat: {exc.strerror or exc}")
            continue
        yield from _entry(p, st, follow_symlinks, seen_dirs, other="not a regular file or folder")


def _entry(path: Path, st: os.stat_result, follow: bool, seen: set[tuple[int, int]],
           other: str) -> Iterator[Found | RawInput]:
    """A folder is walked, a regular file is found, anything else (``other`` says what) is skipped."""
    if stat.S_ISDIR(st.st_mode):
        yield from _walk_dir(path, follow, seen)
    elif stat.S_ISREG(st.st_mode):
        yield Found(path, st.st_size)
    else:
        yield _problem(path, "skipped", "unsupported_type", f"{path}: {other}")


def _walk_dir(root: Path, follow: bool, seen: set[tuple[int, int]]) -> Iterator[Found | RawInput]:
    try:
        st = root.stat()
    except OSError as exc:
        yield _problem(root, "failed", "unreadable", f"{root}: cannot stat folder: {exc.strerror or exc}")
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return  # symlink loop or the same folder given twice
    seen.add(key)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        yield _problem(root, "failed", "unreadable", f"{root}: cannot list folder: {exc.strerror or exc}")
        return
    for entry in entries:
        path = root / entry.name
        try:
            is_link = entry.is_symlink()
            if is_link and not follow:
                yield _problem(path, "skipped", "symlink",
                               f"{path}: symlink not followed (set [scan] follow_symlinks = true to read it)")
                continue
            try:
                st = path.stat()  # follows links
            except FileNotFoundError:
                yield _problem(path, "failed", "unreadable", f"{path}: broken symlink (target does not exist)")
                continue
            yield from _entry(path, st, follow, seen, other="not a regular file (device, pipe or socket)")
        except OSError as exc:
            yield _problem(path, "failed", "unreadable", f"{path}: {exc.strerror or exc}")


def _suffixes(path: Path) -> tuple[str, str]:
    """(last extension, extension before ``.gz``) in lower case."""
    name = path.name.lower()
    sfx = Path(name).suffix
    inner = Path(name[: -len(sfx)]).suffix if sfx == ".gz" else ""
    return sfx, inner


def gunzip_head(head: bytes, n: int = 512) -> bytes:
    """The first decompressed bytes of a gzip stream (empty if it is not gzip)."""
    try:
        d = zlib.decompressobj(wbits=47)
        return d.decompress(head, n)
    except zlib.error:
        return b""


def looks_binary(head: bytes) -> bool:
    """NUL bytes or many control characters: not text (UTF-16 with a BOM is text)."""
    if not head:
        return False
    if head.startswith(_UTF16_BOMS):
        return False
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl / len(head) > 0.05


def looks_like_html(head: bytes) -> bool:
    h = head.lstrip(b"\xef\xbb\xbf")
    if h.startswith(_UTF16_BOMS):
        try:
            h = h.decode("utf-16").encode("utf-8", "ignore")
        except UnicodeDecodeError:
            return False
    return bool(_HTML_START_RE.match(h[:4096]))


def sniff(path: Path, head: bytes) -> str:
    """One of ``warc arc pdf html html.gz text markdown jsonl unknown binary``.

    Magic bytes first (WARC/ARC/PDF/gzip), then the extension, then the content.
    ``binary`` means a file named like a text/HTML document whose bytes are not text.
    """
    sfx, inner = _suffixes(path)
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        inner_head = gunzip_head(head)
        if inner_head.startswith(b"WARC/"):
            return "warc"
        if inner_head.startswith(b"filedesc://"):
            return "arc"
        if inner in _JSONL_EXT:
            return "jsonl"
        if inner in _HTML_EXT or (inner == "" and looks_like_html(inner_head)):
            return "html.gz"
        if inner in _WARC_EXT:
            return "warc"  # the WARC reader reports what is wrong with it
        return "unknown"
    if sfx in _WARC_EXT:
        return "warc"
    if sfx in _JSONL_EXT:
        return "jsonl"
    if sfx in _HTML_EXT:
        return "binary" if looks_binary(head) else "html"
    if sfx in _TEXT_EXT:
        return "binary" if looks_binary(head) else "text"
    if sfx in _MD_EXT:
        return "binary" if looks_binary(head) else "markdown"
    if sfx in _OTHER_EXT:
        return "unknown"
    # No or unknown extension (crawler mirrors save pages as "index.php?id=3", "about"):
    # HTML if it starts like HTML.
    if not looks_binary(head) and looks_like_html(head):
        return "html"
    return "unknown"


def read_gzip_capped(path: Path, max_bytes: int) -> bytes | None:
    """Decompress a gzip file, or None if it decompresses to more than ``max_bytes``."""
    out = bytearray()
    with gzip.open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 16)
            if not block:
                return bytes(out)
            out += block
            if len(out) > max_bytes:
                return None
