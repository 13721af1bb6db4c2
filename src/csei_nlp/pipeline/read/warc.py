"""WARC and ARC archives: one RawInput per record, with a recorded reason for each skip.

Crawls (Common Crawl, Heritrix, browsertrix, wget --warc-file) are the main web
input. warcio parses the records; this module adds what a long unattended run
needs: it never extracts from an empty revisit body, keeps only 200 responses
with HTML or PDF payloads, decodes chunked/gzip/deflate/brotli bodies leniently
(a mislabelled body is kept as it is rather than dropped), and notices what
warcio lets pass silently: a ``.warc.gz`` cut off in the middle (reported as one
failed ``truncated`` input after the good records), a file gzipped as a whole
instead of per record, and gzip members that do not line up with records (both
re-read through a plain gzip stream).
"""
from __future__ import annotations

import contextlib
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ...config import Config
from ...types import RawInput, source_ref
from .discover import gunzip_head, looks_like_html

_SKIP_TYPES = {
    "warcinfo": "warcinfo",
    "request": "request_record",
    "metadata": "metadata_record",
    "revisit": "revisit",
}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml+html", "application/vnd.wap.xhtml+xml"}
_PDF_TYPES = {"application/pdf", "application/x-pdf", "application/acrobat"}
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/unknown",
                  "unknown/unknown", "text/plain", "application/x-unknown-content-type"}
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    m = _CHARSET_RE.search(content_type or "")
    return m.group(1) if m else None


def _dechunk(data: bytes) -> bytes | None:
    """Undo HTTP chunked transfer coding; None if the bytes are not chunked after all."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            eol = data.find(b"\n", pos)
            if eol < 0:
                return None
            sep = 1
        else:
            sep = 2
        size_field = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return None if not out else bytes(out)
        if size == 0:
            return bytes(out)
        start = eol + sep
        out += data[start : start + size]
        pos = start + size
        while data[pos : pos + 1] in (b"\r", b"\n") and pos < len(data):
            pos += 1
    return bytes(out)


def _decompress(data: bytes, encoding: str, cap: int) -> tuple[bytes | None, str]:
    """Decoded body, or (None, why). Partial output of a cut stream is kept."""
    if encoding in ("gzip", "x-gzip", "deflate"):
        for wbits in (47, -15):  # gzip or zlib header, then raw deflate
            d = zlib.decompressobj(wbits=wbits)
            try:
                out = d.decompress(data, cap)
                return out, "" if d.eof else "stream ended early"
            except zlib.error as exc:
                why = str(exc)
        return None, why
    if encoding == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            return None, "brotli body and the 'brotli' package is not installed"
        try:
            return brotli.decompress(data)[:cap], ""
        except brotli.error as exc:
            return None, f"brotli: {exc}"
    return None, f"unsupported Content-Encoding {encoding!r}"


def decode_body(data: bytes, transfer_encoding: str | None, content_encoding: str | None,
                cap: int) -> tuple[bytes, list[str]]:
    """Undo transfer and content codings leniently; returns (body, notes).

    Servers mislabel bodies (``Content-Encoding: gzip`` on plain HTML, chunk
    markers left in a de-chunked capture), so a coding that does not apply is
    skipped with a note instead of losing the page.
    """
    notes: list[str] = []
    if transfer_encoding and "chunked" in transfer_encoding.lower():
        dechunked = _dechunk(data)
        if dechunked is None:
            notes.append("declared chunked but not chunked; kept as is")
        else:
            data = dechunked
    for enc in [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]:
        if enc in ("identity", "none", "utf-8", "utf8"):
            continue
        out, why = _decompress(data, enc, cap)
        if out is None:
            notes.append(f"Content-Encoding {enc}: {why}; kept as is")
        else:
            if why:
                notes.append(f"Content-Encoding {enc}: {why}")
            data = out
    return data, notes


def _read_all(stream: Any, cap: int) -> bytes:
    out = bytearray()
    while len(out) <= cap:
        block = stream.read(min(1 << 16, cap + 1 - len(out)))
        if not block:
            break
        out += block
    return bytes(out)


class _State:
    def __init__(self) -> None:
        self.seen_ids: set[str] = set()
        self.count = 0


def iter_warc(path: str | Path, cfg: Config) -> Iterator[RawInput]:
    """One RawInput per record of a WARC or ARC file (plain or gzipped).

    Yields ``media="html"|"pdf"`` inputs with bytes for usable responses and
    resources; every other record becomes a skipped input with a reason. A cut
    file ends with one failed ``truncated`` input. Never raises for bad data.
    """
    path = Path(path)
    source = str(path)
    max_bytes = int(cfg.scan.max_bytes)
    state = _State()
    try:
        fh = open(path, "rb")
    except OSError as exc:
        yield RawInput(source=source, media="unknown", status="failed", reason="unreadable",
                       detail=f"{source}: {exc.strerror or exc}")
        return
    with fh:
        head = fh.read(4096)
        fh.seek(0)
        is_gz = head[:2] == b"\x1f\x8b"
        start = gunzip_head(head, 16) if is_gz else head[:16]
        if not start.lstrip(b"\r\n").startswith((b"WARC/", b"filedesc://")):
            yield RawInput(source=source, media="unknown", status="failed", reason="corrupt",
                           detail=f"{source}: not a WARC or ARC file (it does not start with a WARC/ARC header)")
            return
        try:
            cut = False
            for raw in _iterate(fh, source, max_bytes, state, recovered=None):
                cut = cut or raw.reason == "truncated"
                yield raw
            if is_gz and not cut and not _gzip_complete(path):
                # warcio stops silently when the cut falls inside a record's headers.
                yield _fail(source, state, "truncated",
                            f"{source}: the gzip stream ends early; {state.count} complete records were read "
                            "before the cut")
            return
        except ArchiveLoadFailed as exc:
            msg = " ".join(str(exc).split())
            if not is_gz:
                yield _fail(source, state, "corrupt",
                            f"{source}: not a readable WARC/ARC after {state.count} records: {msg[:300]}")
                return
            if "non-chunked" in msg:
                why = "the whole file is one gzip stream instead of one gzip member per record"
            else:
                why = "gzip members are not aligned with WARC records"
        except (EOFError, zlib.error, OSError, ValueError) as exc:
            yield _fail(source, state, "truncated" if is_gz or isinstance(exc, EOFError) else "corrupt",
                        f"{source}: archive ends or breaks after {state.count} records: {type(exc).__name__}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a third-party parser on untrusted bytes
            yield _fail(source, state, "corrupt",
                        f"{source}: cannot parse archive after {state.count} records: {type(exc).__name__}: {exc}")
            return
    # Re-read through a plain gzip stream; offsets then count decompressed bytes.
    try:
        with gzip.open(path, "rb") as gz:
            yield from _iterate(gz, source, max_bytes, state, recovered=why)
    except (EOFError, zlib.error, OSError, gzip.BadGzipFile) as exc:
        yield _fail(source, state, "truncated",
                    f"{source}: {why}; re-reading it as one gzip stream stopped after {state.count} records: {exc}")
    except Exception as exc:  # noqa: BLE001
        yield _fail(source, state, "corrupt",
                    f"{source}: {why}, and re-reading it as one gzip stream failed: {type(exc).__name__}: {exc}")


def _gzip_complete(path: Path) -> bool:
    """True if every gzip member of ``path`` ends with its end-of-stream marker."""
    try:
        with gzip.open(path, "rb") as gz:
            while gz.read(1 << 20):
                pass
    except (EOFError, zlib.error, OSError):
        return False
    return True


def _fail(source: str, state: _State, reason: str, detail: str) -> RawInput:
    return RawInput(source=source, media="unknown", offset=None, status="failed", reason=reason,
                    detail=detail, meta={"records_read": state.count})


def _iterate(fh: Any, source: str, max_bytes: int, state: _State, recovered: str | None) -> Iterator[RawInput]:
    it = ArchiveIterator(fh, arc2warc=True)
    pending: RawInput | None = None
    for record in it:
        if pending is not None:
            yield pending
            pending = None
        rec_id = record.rec_headers.get_header("WARC-Record-ID") or ""
        if recovered and rec_id and rec_id in state.seen_ids:
            it.read_to_end()
            continue
        raw, truncated = _convert(record, it, source, max_bytes)
        errors_before = it.err_count
        warn = io.StringIO()
        with contextlib.redirect_stderr(warn):
            offset = it.get_record_offset()  # also drains the rest of the record
            length = it.get_record_length()
        raw.offset = offset
        truncated = truncated or _cut_short(record, it)
        if recovered:
            raw.meta["recovered"] = recovered
            raw.meta["offset_in"] = "decompressed stream"
        if truncated:
            # Real truncation at the end of the file, or a gzip member boundary in the
            # middle of a record: we only know which when iteration goes on.
            declared = record.rec_headers.get_header("Content-Length")
            pending = RawInput(
                source=source, media="unknown", offset=offset, url=raw.url, fetch_date=raw.fetch_date,
                status="failed", reason="truncated",
                detail=(f"{source_ref(source, offset)}: record ({record.rec_type}, {raw.url or 'no URI'}) declares "
                        f"{declared} bytes but the file ends before that; records before it were read"),
            )
            continue
        state.count += 1
        if rec_id:
            state.seen_ids.add(rec_id)
        if it.err_count > errors_before:
            raw.meta["warning"] = "record not followed by a blank line; its Content-Length may be wrong"
            yield raw
            yield RawInput(
                source=source, media="unknown", offset=offset + length, status="failed", reason="malformed",
                detail=(f"{source_ref(source, offset + length)}: the record at offset {offset} is not followed by the "
                        f"WARC record separator (its Content-Length is probably wrong); "
                        f"its text may be cut: {' '.join(warn.getvalue().split())[:200]}"),
            )
            continue
        yield raw
    if pending is not None:
        yield pending


def _cut_short(record: Any, it: ArchiveIterator) -> bool:
    """After the record was drained: did the file end inside it?"""
    if getattr(record.raw_stream, "limit", 0) > 0:
        return True  # fewer bytes than Content-Length
    if record.rec_headers.get_header("Content-Length") is None and record.rec_type != "warcinfo":
        return True  # the header block itself was cut
    decomp = getattr(it.reader, "decompressor", None) if it.reader is not None else None
    return decomp is not None and hasattr(decomp, "eof") and not decomp.eof


def _convert(record: Any, it: ArchiveIterator, source: str, max_bytes: int) -> tuple[RawInput, bool]:
    """(RawInput, truncated) for one record; reads the payload only when it is wanted."""
    h = record.rec_headers
    rec_type = (record.rec_type or "").lower()
    url = h.get_header("WARC-Target-URI")
    if url:
        url = url.strip("<> ")
    base = dict(source=source, url=url or None, fetch_date=h.get_header("WARC-Date"))

    def skip(reason: str, detail: str, truncated: bool = False, **meta: Any) -> tuple[RawInput, bool]:
        return RawInput(media="unknown", status="skipped", reason=reason,
                        detail=f"{source}: {detail}", meta={"warc_type": rec_type, **meta}, **base), truncated

    if rec_type in _SKIP_TYPES:
        what = {"revisit": f"revisit record for {url} (no body; refers to an earlier capture)",
                "request": f"request record for {url}",
                "metadata": f"metadata record for {url}",
                "warcinfo": "warcinfo record (file metadata)"}[rec_type]
        return skip(_SKIP_TYPES[rec_type], what)
    if rec_type not in ("response", "resource"):
        return skip("unsupported_type", f"WARC-Type {rec_type or '(none)'} record is not a page")

    http = record.http_headers if rec_type == "response" else None
    if rec_type == "response":
        if http is None or not http.protocol.upper().startswith("HTTP"):
            return skip("unsupported_type", f"response for {url} carries no HTTP message (e.g. DNS)")
        status = http.get_statuscode() or ""
        if status != "200":
            return skip("non_200", f"HTTP {status or '?'} response for {url}", http_status=status)
        content_type = http.get_header("Content-Type")
    else:
        content_type = h.get_header("Content-Type")

    try:
        declared = int(h.get_header("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        return skip("too_large", f"record for {url} is {declared} bytes, over [scan] max_bytes = {max_bytes}")

    body = _read_all(record.raw_stream, max_bytes)
    truncated = getattr(record.raw_stream, "limit", 0) > 0
    notes: list[str] = []
    if http is not None:
        body, notes = decode_body(body, http.get_header("Transfer-Encoding"), http.get_header("Content-Encoding"),
                                  max_bytes)

    mtype = _media_type(content_type)
    ident = _media_type(h.get_header("WARC-Identified-Payload-Type"))
    if mtype in _HTML_TYPES or (mtype in _GENERIC_TYPES and ident in _HTML_TYPES):
        media = "html"
    elif mtype in _PDF_TYPES or body.startswith(b"%PDF-"):
        media = "pdf"
    elif mtype in _GENERIC_TYPES and looks_like_html(body[:4096]):
        media = "html"
    else:
        return skip("unsupported_type", f"{rec_type} for {url} has payload type {mtype or '(none)'}",
                    truncated, content_type=mtype)
    meta: dict[str, Any] = {"warc_type": rec_type, "content_type": mtype}
    if notes:
        meta["decode_notes"] = notes
    if not body.strip():
        return RawInput(media=media, status="skipped", reason="empty",  # type: ignore[arg-type]
                        detail=f"{source}: {rec_type} for {url} has an empty body", meta=meta, **base), truncated
    return RawInput(media=media, data=body, http_charset=_charset(content_type), meta=meta,  # type: ignore[arg-type]
                    **base), truncated
