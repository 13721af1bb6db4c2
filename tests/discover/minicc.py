"""A mini Common Crawl, built at test time: gzip-per-record WARC files, a Parquet index with Common
Crawl's column names and types, and a local HTTP server that honours ``Range`` and logs every request.

Page bodies are the sample corpus's real-looking pages (corpora/sample/web); each site is served as
``https://www.<site>/<file>``.  Besides the pages, the WARC files hold what a real crawl holds and a
job must not select (request records, a 404 page, a redirect, an image, robots.txt), and the faults
the fetcher must survive: a 503 answered once, a connection cut short once, an index row naming a
WARC file that is not there, and a damaged gzip member.

Used by tests/discover/test_commoncrawl.py and bench/bench_cc.py.
"""
from __future__ import annotations

import hashlib
import gzip
import http.server
import io
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WEB = REPO / "corpora" / "sample" / "web"
CRAWL = "CC-MAIN-2026-40"
SEGMENT = "1759000000000.00"
INDEX_DIR = f"cc-index/table/cc-main/warc/crawl={CRAWL}/subset=warc"
LANG3 = {"pl": "pol", "sk": "slk", "cz": "ces", "hu": "hun", "lt": "lit", "bg": "bul", "de": "deu",
         "fr": "fra", "it": "ita", "es": "spa", "ro": "ron", "nl": "nld", "uk": "eng"}
CEE_TLDS = ["pl", "sk", "cz"]  # the tests select these (3 languages keep the scans short)
# a short-URL news page on a cluster's site: host expansion must prefer the members page over it
FILLER = ("https://klaster-borylipiny.pl/news.html", "lecho-du-plateau.fr/deviation-rd12.html", "pol")


def warc_name(n: int) -> str:
    return f"crawl-data/{CRAWL}/segments/{SEGMENT}/warc/CC-MAIN-20260915100000-20260915120000-{n:05d}.warc.gz"


@dataclass
class Row:
    """One index row (the columns the tests look at; the rest are derived when writing)."""

    url: str
    tld: str
    site: str
    languages: str
    mime: str
    status: int
    warc_filename: str
    offset: int
    length: int
    kind: str = "page"  # page, decoy, missing, corrupt

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.warc_filename, self.offset, self.length)

    @property
    def range(self) -> str:
        return f"bytes={self.offset}-{self.offset + self.length - 1}"


@dataclass
class MiniCC:
    root: Path  # serves: root/crawl-data/... ; index under root/cc-index/...
    rows: list[Row] = field(default_factory=list)

    @property
    def index_glob(self) -> str:
        return str(self.root / INDEX_DIR / "*.parquet")

    def selected(self, tlds: list[str]) -> list[Row]:
        """Rows a job with these TLDs must select (status 200, HTML or PDF)."""
        return [r for r in self.rows if r.status == 200 and r.mime in ("text/html", "application/pdf")
                and r.tld in tlds]


def _pages(copies: int = 1) -> list[tuple[str, str, str, bytes]]:
    """(url, site, tld, body) for every sample page, sorted; ``copies`` > 1 adds ``?v=N`` variants."""
    out = []
    for f in sorted(SAMPLE_WEB.rglob("*.html")):
        site = f.parent.name
        url = f"https://www.{site}/{f.name}"
        for k in range(copies):
            out.append((url if k == 0 else f"{url}?v={k}", site, site.rsplit(".", 1)[-1], f.read_bytes()))
    return out


def _record(writer, url: str, rtype: str, status: str, ctype: str, body: bytes):
    from warcio.statusandheaders import StatusAndHeaders

    if rtype == "request":
        parts = urllib.parse.urlsplit(url)
        http = StatusAndHeaders(f"GET {parts.path or '/'} HTTP/1.1", [("Host", parts.netloc)],
                                is_http_request=True)
        return writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=http)
    headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    if status.startswith("301"):
        headers.append(("Location", url + "new/"))
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                     warc_headers_dict={"WARC-Date": "2026-09-15T10:00:00Z"})


def build(root: Path, pages_per_file: int = 16, copies: int = 1) -> MiniCC:
    """Write the mini crawl under ``root``: 2 WARC files, 2 Parquet index files (``copies``: each
    sample page that many times, for the benchmark)."""
    from warcio.warcwriter import WARCWriter

    cc = MiniCC(root)
    pages = _pages(copies)
    filler_body = (SAMPLE_WEB / FILLER[1]).read_bytes()
    plan: list[list[tuple[str, str, str, str, str, bytes, str]]] = [[], []]  # (url, site, tld, langs, ...)
    for i, (url, site, tld, body) in enumerate(pages):
        plan[min(1, i // pages_per_file)].append((url, site, tld, LANG3.get(tld, "eng"), "text/html", body,
                                                  "200 OK"))
    plan[1].append((FILLER[0], "klaster-borylipiny.pl", "pl", FILLER[2], "text/html", filler_body, "200 OK"))
    # what a real crawl holds besides pages (never selected)
    plan[0].append(("https://www.klaster-borylipiny.pl/robots.txt", "klaster-borylipiny.pl", "pl", "",
                    "text/plain", b"User-agent: *\nAllow: /\n", "200 OK"))
    plan[0].append(("https://www.zelenalhota.cz/stara-stranka.html", "zelenalhota.cz", "cz", "ces",
                    "text/html", b"<html><body>Not found</body></html>", "404 Not Found"))
    plan[1].append(("https://www.szvoh.hu/regi/", "szvoh.hu", "hu", "", "text/html", b"", "301 Moved Permanently"))
    plan[1].append(("https://www.trakia-digital.bg/logo.jpg", "trakia-digital.bg", "bg", "", "image/jpeg",
                    b"\xff\xd8\xff\xe0" + bytes(200), "200 OK"))
    (root / INDEX_DIR).mkdir(parents=True, exist_ok=True)
    for n, items in enumerate(plan):
        name = warc_name(n)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            w = WARCWriter(fh, gzip=True)
            w.write_record(w.create_warcinfo_record(path.name, {"software": "csei-nlp tests (mini Common Crawl)"}))
            for url, site, tld, langs, mime, body, status in items:
                w.write_record(_record(w, url, "request", "", "", b""))
                start = fh.tell()
                w.write_record(_record(w, url, "response", status, f"{mime}; charset=utf-8"
                                       if mime.startswith("text/") else mime, body))
                code = int(status.split()[0])
                cc.rows.append(Row(url, tld, site, langs, mime, code, name, start, fh.tell() - start,
                                   "page" if code == 200 and mime == "text/html" else "decoy"))
            if n == 1:  # a damaged record: a valid gzip member with bytes flipped in its middle
                buf = io.BytesIO()
                bw = WARCWriter(buf, gzip=True)
                bw.write_record(_record(bw, "https://www.klaster-hornarieka.sk/archiv.html", "response",
                                        "200 OK", "text/html; charset=utf-8",
                                        (SAMPLE_WEB / "klaster-hornarieka.sk" / "clenovia.html").read_bytes()))
                raw = bytearray(buf.getvalue())
                mid = len(raw) // 2
                raw[mid:mid + 40] = bytes(b ^ 0x5A for b in raw[mid:mid + 40])
                start = fh.tell()
                fh.write(bytes(raw))
                cc.rows.append(Row("https://www.klaster-hornarieka.sk/archiv.html", "sk", "klaster-hornarieka.sk",
                                   "slk", "text/html", 200, name, start, len(raw), "corrupt"))
    # an index row naming a WARC file the server does not have
    cc.rows.append(Row("https://www.kr-podjavorsky.cz/archiv.html", "cz", "kr-podjavorsky.cz", "ces",
                       "text/html", 200, warc_name(7), 1234, 5678, "missing"))
    write_index(root / INDEX_DIR, cc.rows)
    return cc


def write_index(folder: Path, rows: list[Row], files: int = 2) -> None:
    """Parquet files with Common Crawl's column names and types (fetch_status int16, url_port int32,
    warc_record_offset int64, warc_record_length int32, fetch_time a UTC timestamp)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = index_schema()
    for i in range(files):
        part = rows[i::files]
        cols = {name: [] for name in schema.names}
        for r in part:
            u = urllib.parse.urlsplit(r.url)
            host = u.hostname or ""
            cols["url_surtkey"].append(",".join(reversed(host.split("."))) + ")" + (u.path or "/"))
            cols["url"].append(r.url)
            cols["url_host_name"].append(host)
            cols["url_host_tld"].append(r.tld)
            cols["url_host_registered_domain"].append(r.site)
            cols["url_protocol"].append(u.scheme)
            cols["url_port"].append(None)
            cols["url_path"].append(u.path)
            cols["url_query"].append(u.query or None)
            cols["fetch_time"].append(datetime(2026, 9, 15, 10, 0, tzinfo=timezone.utc))
            cols["fetch_status"].append(r.status)
            cols["fetch_redirect"].append(r.url + "new/" if r.status == 301 else None)
            cols["content_digest"].append("SHA1:" + hashlib.sha1(r.url.encode()).hexdigest().upper())
            cols["content_mime_type"].append(r.mime)
            cols["content_mime_detected"].append(r.mime)
            cols["content_charset"].append("UTF-8" if r.mime.startswith("text/") else None)
            cols["content_languages"].append(r.languages or None)
            cols["content_truncated"].append(None)
            cols["warc_filename"].append(r.warc_filename)
            cols["warc_record_offset"].append(r.offset)
            cols["warc_record_length"].append(r.length)
            cols["warc_segment"].append(SEGMENT)
        pq.write_table(pa.table(cols, schema=schema), folder / f"part-{i:05d}-minicc.c000.gz.parquet",
                       compression="gzip")


def index_schema():
    import pyarrow as pa

    s = pa.string()
    return pa.schema([
        ("url_surtkey", s), ("url", s), ("url_host_name", s), ("url_host_tld", s),
        ("url_host_registered_domain", s), ("url_protocol", s), ("url_port", pa.int32()), ("url_path", s),
        ("url_query", s), ("fetch_time", pa.timestamp("us", tz="UTC")), ("fetch_status", pa.int16()),
        ("fetch_redirect", s), ("content_digest", s), ("content_mime_type", s), ("content_mime_detected", s),
        ("content_charset", s), ("content_languages", s), ("content_truncated", s), ("warc_filename", s),
        ("warc_record_offset", pa.int64()), ("warc_record_length", pa.int32()), ("warc_segment", s),
    ])


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves files under ``root``; honours ``Range: bytes=a-b``; logs (path, range, status).

    ``faults`` maps (path, offset) to "503" or "short" (served once, then the record), "down" (503
    every time) or "whole" (the whole file with 200, as a server that ignores Range)."""

    root: Path
    log: list[tuple[str, str | None, int]]
    faults: dict[tuple[str, int], str]
    tripped: set[tuple[str, int]]
    lock: threading.Lock

    def do_GET(self) -> None:  # noqa: N802
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        rng = self.headers.get("Range")
        f = self.root / path
        if not f.is_file():
            self._log(path, rng, 404)
            self.send_error(404)
            return
        data = f.read_bytes()
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng or "")
        if not m:
            self._whole_file(path, rng, data)
            return
        a, b = int(m.group(1)), int(m.group(2))
        key = (path, a)
        with self.lock:
            fault = self.faults.get(key) if key not in self.tripped else None
            if fault in ("503", "short"):
                self.tripped.add(key)
        if fault == "whole":
            self._whole_file(path, rng, data)
            return
        if fault in ("503", "down"):
            self._log(path, rng, 503)
            self.send_response(503, "Slow Down")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = data[a:b + 1]
        self._log(path, rng, 206)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {a}-{a + len(body) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if fault == "short" else body)
        if fault == "short":
            self.close_connection = True

    def _whole_file(self, path: str, rng: str | None, data: bytes) -> None:
        self._log(path, rng, 200)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, path: str, rng: str | None, status: int) -> None:
        with self.lock:
            self.log.append((path, rng, status))

    def log_message(self, *args: object) -> None:
        pass


class Server:
    """The mini crawl's HTTP server in a thread (``with Server(root) as s: s.url``)."""

    def __init__(self, root: Path, faults: dict[tuple[str, int], str] | None = None) -> None:
        self.log: list[tuple[str, str | None, int]] = []
        self.faults = dict(faults or {})
        handler = type("H", (RangeHandler,), {"root": root, "log": self.log, "faults": self.faults,
                                              "tripped": set(), "lock": threading.Lock()})
        server_cls = type("S", (http.server.ThreadingHTTPServer,), {"request_queue_size": 128})
        self.httpd = server_cls(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def gunzip_member(data: bytes) -> bytes:
    return gzip.decompress(data)
