#!/usr/bin/env python3
"""Build the generated parts of the bundled sample corpus, byte for byte reproducibly.

``corpora/sample`` is what a new user points ``csei scan`` at first, so it must
exercise every reader: loose HTML pages (committed as written), a WARC crawl, a
JSONL file in the shape crawl-extraction tools emit, and a folder of broken
inputs that must end up in the failure report rather than crash the run.

The loose pages and ``manifest.jsonl`` (the labels) are hand-written and
committed. This script derives the rest from them and from
``corpora/tools/sample_src/``:

* ``crawl/sample.warc.gz`` - the manifest rows whose ``path`` is that file, each
  as a request + 200 response (``Content-Type`` with the charset the manifest
  gives), plus one 404, one revisit and one metadata record, so a scan shows
  non-200 and revisit skips. Pages packed here are never also loose files.
* ``jsonl/extracted.jsonl`` - three ``{"url","text","lang"}`` records and one
  ``{"url","html"}`` record.
* ``broken/`` - a 0-byte page, a binary file named ``.html``, a WARC cut in the
  middle of a record, a ``.docx`` (zip) and a ``.png``. Other files there (the
  broken PDF) belong to the PDF tooling and are left alone.

Output is deterministic: fixed WARC-Date and record ids, one gzip member per
record written with mtime 0, zip entries with a fixed timestamp. Run it again
after editing a source page; ``--check`` rebuilds into a temporary folder and
fails if the committed files differ.

Usage::

    python corpora/tools/build_sample.py            # rewrite the generated files
    python corpora/tools/build_sample.py --check    # verify they are up to date
    python corpora/tools/build_sample.py --out DIR  # write them under DIR instead
"""
from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import io
import json
import struct
import sys
import tempfile
import uuid
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
SAMPLE_DIR = HERE.parent / "sample"
SRC_DIR = HERE / "sample_src"

WARC_PATH = "crawl/sample.warc.gz"
JSONL_PATH = "jsonl/extracted.jsonl"
BROKEN_FILES = (
    "broken/empty-page.html",
    "broken/image-saved-as-page.html",
    "broken/truncated-crawl.warc.gz",
    "broken/meeting-minutes-2023.docx",
    "broken/logo.png",
)

CRAWL_START = datetime(2024, 5, 6, 8, 0, 0, tzinfo=timezone.utc)
# Namespace for the record ids: uuid5 of (record type, URI, date) under it.
_ID_NAMESPACE = uuid.UUID("6f1c2a52-3c1e-4f5e-9a57-0c5e1ad5c5e1")
_USER_AGENT = "csei-sample-builder/1.0 (fixed-date synthetic crawl)"

# The extra records that exercise the skip paths of a WARC reader.
NOT_FOUND_URL = "https://klaster-kupskibrijeg.hr/stara-stranica/"
NOT_FOUND_AFTER = "hr-1b"  # manifest id the 404 follows
METADATA_FOR = "es-1"  # manifest id whose response gets a metadata record
REVISIT_OF = "ro-1a"  # manifest id re-crawled a week later with an identical payload


class SampleError(Exception):
    """The manifest and the source files disagree; the message names the file."""


# --------------------------------------------------------------------------- manifest

def manifest_path(sample_dir: Path = SAMPLE_DIR) -> Path:
    """The labels live beside the sample folder, not in it, so a scan of the folder reads only pages."""
    return sample_dir.parent / f"{sample_dir.name}.manifest.jsonl"


def load_manifest(sample_dir: Path = SAMPLE_DIR) -> list[dict[str, Any]]:
    """The rows of ``manifest.jsonl`` (one per page or JSONL record), in file order."""
    path = manifest_path(sample_dir)
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SampleError(f"{path}: line {n}: not valid JSON ({exc.msg})") from None
    return rows


def validate(rows: list[dict[str, Any]], sample_dir: Path = SAMPLE_DIR, src_dir: Path = SRC_DIR) -> None:
    """Check that every labelled page exists once, and every loose page is labelled."""
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    loose: set[str] = set()
    for row in rows:
        rid = row.get("id", "?")
        for key in ("id", "path", "url", "site", "lang", "charset", "kind", "is_csei"):
            if key not in row:
                raise SampleError(f"manifest.jsonl: row {rid}: missing '{key}'")
        if rid in seen_ids:
            raise SampleError(f"manifest.jsonl: id {rid} appears twice")
        if row["url"] in seen_urls:
            raise SampleError(f"manifest.jsonl: {rid}: URL {row['url']} appears twice")
        seen_ids.add(rid)
        seen_urls.add(row["url"])
        if row["path"].startswith("web/"):
            if "source" in row:
                raise SampleError(f"manifest.jsonl: {rid}: a loose page cannot also have a WARC source")
            page = sample_dir / row["path"]
            loose.add(row["path"])
        elif row["path"] in (WARC_PATH, JSONL_PATH):
            page = src_dir / row.get("source", "")
            if not row.get("source") or not page.is_file():
                raise SampleError(f"manifest.jsonl: {rid}: source file {page} not found")
        else:
            raise SampleError(f"manifest.jsonl: {rid}: unexpected path {row['path']}")
        if not page.is_file():
            raise SampleError(f"manifest.jsonl: {rid}: {page} not found")
        try:
            page.read_bytes().decode(row["charset"])
        except (UnicodeDecodeError, LookupError) as exc:
            raise SampleError(f"{page}: does not decode as {row['charset']}: {exc}") from None
    on_disk = {p.relative_to(sample_dir).as_posix() for p in (sample_dir / "web").rglob("*") if p.is_file()}
    unlabelled = sorted(on_disk - loose)
    if unlabelled:
        raise SampleError(f"{sample_dir / unlabelled[0]}: page has no row in manifest.jsonl "
                          f"({len(unlabelled)} unlabelled in all)")


# --------------------------------------------------------------------------- WARC

def _warc_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_id(kind: str, uri: str, dt: datetime) -> str:
    return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{kind}|{uri}|{_warc_date(dt)}')}>"


def _member(record: Any) -> bytes:
    """One WARC record as its own gzip member (mtime 0: same bytes on every run)."""
    buf = io.BytesIO()
    WARCWriter(buf, gzip=False).write_record(record)
    return gzip.compress(buf.getvalue(), compresslevel=9, mtime=0)


class _Warc:
    """Collects gzip members; every record id and date is given explicitly."""

    def __init__(self) -> None:
        self.writer = WARCWriter(io.BytesIO(), gzip=False)
        self.members: list[bytes] = []

    def add(self, kind: str, uri: str, dt: datetime, *, payload: bytes | None = None,
            http: StatusAndHeaders | None = None, content_type: str = "",
            extra: dict[str, str] | None = None) -> tuple[str, Any]:
        rid = _record_id(kind, uri, dt)
        headers = {"WARC-Record-ID": rid, "WARC-Date": _warc_date(dt), **(extra or {})}
        if content_type:
            headers["Content-Type"] = content_type
        record = self.writer.create_warc_record(
            uri, kind, payload=io.BytesIO(payload or b""), length=len(payload or b""),
            warc_headers_dict=headers, http_headers=http)
        self.members.append(_member(record))
        return rid, record

    def warcinfo(self, filename: str, dt: datetime) -> None:
        info = (
            "software: csei-nlp corpora/tools/build_sample.py\r\n"
            "format: WARC File Format 1.0\r\n"
            "description: Synthetic crawl of fictional organisations, written for the csei-nlp sample corpus\r\n"
            "robots: not applicable (no network access)\r\n"
        ).encode("utf-8")
        self.add("warcinfo", "", dt, payload=info, content_type="application/warc-fields",
                 extra={"WARC-Filename": filename})

    def page(self, url: str, dt: datetime, status: str, body: bytes, content_type: str) -> tuple[str, Any]:
        host = url.split("/")[2]
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        response_id = _record_id("response", url, dt)
        request = StatusAndHeaders(f"GET {path} HTTP/1.1", [
            ("Host", host), ("User-Agent", _USER_AGENT),
            ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"),
            ("Accept-Language", "*"), ("Connection", "close"),
        ], is_http_request=True)
        self.add("request", url, dt, http=request, extra={"WARC-Concurrent-To": response_id})
        http = StatusAndHeaders(status, [
            ("Date", email.utils.format_datetime(dt, usegmt=True)),
            ("Server", "nginx"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ], protocol="HTTP/1.1")
        return self.add("response", url, dt, payload=body, http=http)


def build_warc(rows: list[dict[str, Any]], src_dir: Path = SRC_DIR) -> bytes:
    """The sample crawl: request + response per page, plus a 404, a metadata and a revisit record."""
    pages = [r for r in rows if r["path"] == WARC_PATH]
    if not pages:
        raise SampleError(f"manifest.jsonl: no rows with path {WARC_PATH}")
    warc = _Warc()
    warc.warcinfo("sample.warc.gz", CRAWL_START)
    revisit: tuple[dict[str, Any], Any, datetime] | None = None
    for i, row in enumerate(pages, 1):
        dt = CRAWL_START + timedelta(seconds=7 * i)
        body = (src_dir / row["source"]).read_bytes()
        ctype = f"text/html; charset={row['http_charset']}" if row.get("http_charset") else "text/html"
        rid, record = warc.page(row["url"], dt, "200 OK", body, ctype)
        if row["id"] == METADATA_FOR:
            fields = (f"fetchTimeMs: {180 + 13 * i}\r\n"
                      f"charset-detected: {row['charset'].upper()}\r\n"
                      f"languages-cld2: {{\"languages\":[{{\"code\":\"{row['lang']}\",\"text-covered\":0.97}}]}}\r\n"
                      ).encode("utf-8")
            warc.add("metadata", row["url"], dt, payload=fields, content_type="application/warc-fields",
                     extra={"WARC-Concurrent-To": rid})
        if row["id"] == NOT_FOUND_AFTER:
            dt404 = dt + timedelta(seconds=3)
            body404 = ("<!DOCTYPE html><html lang=\"hr\"><head><meta charset=\"utf-8\"><title>404 – Stranica "
                       "nije pronađena</title></head><body><h1>Stranica nije pronađena</h1><p>Tražena stranica "
                       "ne postoji ili je premještena.</p></body></html>").encode("utf-8")
            warc.page(NOT_FOUND_URL, dt404, "404 Not Found", body404, "text/html; charset=utf-8")
        if row["id"] == REVISIT_OF:
            revisit = (row, record, dt)
    if revisit is None:
        raise SampleError(f"manifest.jsonl: the revisit target {REVISIT_OF} is not in the WARC")
    row, record, first = revisit
    later = first + timedelta(days=7)
    http = StatusAndHeaders("200 OK", [
        ("Date", email.utils.format_datetime(later, usegmt=True)),
        ("Server", "nginx"),
        ("Content-Type", record.http_headers.get_header("Content-Type")),
        ("Connection", "close"),
    ], protocol="HTTP/1.1")
    digest = record.rec_headers.get_header("WARC-Payload-Digest")
    rev = warc.writer.create_revisit_record(
        row["url"], digest, row["url"], _warc_date(first), http_headers=http,
        warc_headers_dict={"WARC-Record-ID": _record_id("revisit", row["url"], later),
                           "WARC-Date": _warc_date(later),
                           "WARC-Refers-To": record.rec_headers.get_header("WARC-Record-ID")})
    warc.members.append(_member(rev))
    return b"".join(warc.members)


# --------------------------------------------------------------------------- JSONL

def build_jsonl(rows: list[dict[str, Any]], src_dir: Path = SRC_DIR) -> bytes:
    """Records in the shape of crawl-extraction output: url+text+lang, or url+html."""
    recs = sorted((r for r in rows if r["path"] == JSONL_PATH), key=lambda r: r["line"])
    if [r["line"] for r in recs] != list(range(1, len(recs) + 1)):
        raise SampleError(f"manifest.jsonl: the {JSONL_PATH} rows must number their lines 1..n")
    out = []
    for r in recs:
        content = (src_dir / r["source"]).read_text("utf-8").strip()
        if r["field"] == "html":
            rec = {"url": r["url"], "html": content}
        else:
            rec = {"url": r["url"], "text": content, "lang": r["lang"]}
        out.append(json.dumps(rec, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- broken inputs

def _pseudo_random(n: int, seed: bytes) -> bytes:
    out = bytearray()
    block = seed
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def _png(width: int = 16, height: int = 16) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    rows = b"".join(b"\x00" + b"".join(bytes((x * 15, y * 15, 120)) for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _docx() -> bytes:
    buf = io.BytesIO()
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            '<w:p><w:r><w:t>Minutes of the cluster board meeting, 14 March 2023 (fictional).</w:t></w:r></w:p>'
            '</w:body></w:document>'),
    }
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2023, 3, 14, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, text)
    return buf.getvalue()


_ALLOTMENT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Eastvale Allotment Association</title></head>
<body>
<main>
<h1>Eastvale Allotment Association</h1>
<p>The association manages forty-two plots on the old railway land behind the community hall.</p>
<p>Plots are allocated every March, and the waiting list is kept by the secretary.</p>
<p>Members share a tool shed, two water butts and a compost bay near the north gate.</p>
<p>Bonfires are not allowed between April and September, and hosepipes may only be used before nine.</p>
<p>New tenants receive a starter pack with seed potatoes, onion sets and a copy of the site rules.</p>
<p>The annual produce show takes place on the last Saturday of August, with prizes for the heaviest marrow.</p>
<p>Children are welcome on the site if an adult plot holder stays with them at all times.</p>
<p>Rent is twenty-five pounds a year for a full plot and fifteen pounds for a half plot.</p>
</main>
</body>
</html>
"""


def _truncated_warc() -> bytes:
    """A one-page crawl cut inside the payload of its response record.

    That is what an interrupted download leaves: the WARC and HTTP headers of the
    last record are complete, its body and its gzip member are not.
    """
    warc = _Warc()
    warc.warcinfo("truncated-crawl.warc.gz", CRAWL_START)
    warc.page("https://allotments.eastvale.org.uk/", CRAWL_START, "200 OK",
              _ALLOTMENT_PAGE.encode("utf-8"), "text/html; charset=utf-8")
    last = warc.members[-1]
    whole = b"".join(warc.members)
    cut = whole[: len(whole) - len(last) // 4]
    partial = zlib.decompressobj(31).decompress(cut[len(whole) - len(last):])
    if b"\r\n\r\n<!DOCTYPE html>" not in partial or partial.endswith(b"</html>\n"):
        raise SampleError("the truncated WARC must end inside the HTML body of its response")
    return cut


def build_broken() -> dict[str, bytes]:
    # A JPEG-looking blob with NUL bytes, saved under an .html name.
    binary = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + _pseudo_random(
        4096, b"csei sample binary page")
    return dict(zip(BROKEN_FILES, (b"", binary, _truncated_warc(), _docx(), _png())))


# --------------------------------------------------------------------------- driver

def build(sample_dir: Path = SAMPLE_DIR, src_dir: Path = SRC_DIR, out_dir: Path | None = None) -> dict[str, int]:
    """Write the generated files under ``out_dir`` (default: the sample folder).

    Returns ``{relative path: size in bytes}`` for the files written.
    """
    rows = load_manifest(sample_dir)
    validate(rows, sample_dir, src_dir)
    files = {WARC_PATH: build_warc(rows, src_dir), JSONL_PATH: build_jsonl(rows, src_dir), **build_broken()}
    out = sample_dir if out_dir is None else out_dir
    for rel, data in files.items():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return {rel: len(data) for rel, data in files.items()}


def check(sample_dir: Path = SAMPLE_DIR, src_dir: Path = SRC_DIR) -> list[str]:
    """Relative paths of generated files that differ from a fresh build (empty: up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        written = build(sample_dir, src_dir, Path(tmp))
        stale = []
        for rel in written:
            committed = sample_dir / rel
            if not committed.is_file() or committed.read_bytes() != (Path(tmp) / rel).read_bytes():
                stale.append(rel)
    return stale


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write under this folder instead of corpora/sample")
    ap.add_argument("--check", action="store_true", help="fail if the committed files are not up to date")
    args = ap.parse_args(argv)
    try:
        if args.check:
            stale = check()
            for rel in stale:
                print(f"out of date: {SAMPLE_DIR / rel} (run corpora/tools/build_sample.py)", file=sys.stderr)
            return 1 if stale else 0
        for rel, size in build(out_dir=args.out).items():
            print(f"{size:>8}  {rel}")
    except SampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
