"""A small, polite crawler from seed URLs to a standard WARC file.

Why: many CSEI in Central and Eastern Europe have only a website, in the local
language.  A discovery job can start from a list of seed URLs; what it fetched
is kept as WARC (request and response records, via warcio) so that every scan
can be reproduced from exactly the bytes that were seen.

Politeness: robots.txt is fetched per host and obeyed (``urllib.robotparser``,
including its Crawl-delay when longer than ours), requests to one host are
spaced by at least ``delay_s``, every request carries the job's user agent, and
depth and pages per site are capped.  Links are followed on the seed's own
site only by default.  Pages in the preferred languages come first: ``hreflang``
alternates and ``lang`` hints (``<a hreflang>``, ``/pl/`` path segments,
``?lang=pl``) move a link up the queue, so the per-site page budget is spent on
local-language pages.
"""
from __future__ import annotations

import heapq
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .job import CrawlConfig

from ..fsutil import atomic_open
from ..pipeline.site import domain_of

HTML_TYPES = ("text/html", "application/xhtml+xml")
KEEP_TYPES = HTML_TYPES + ("application/pdf", "text/plain")
_LANG_SEG = re.compile(r"^[a-z]{2}(?:[-_][a-z]{2})?$", re.I)


@dataclass
class CrawlStats:
    fetched: int = 0
    written: int = 0
    robots_blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, float]] = field(default_factory=list)  # (url, monotonic time) incl. robots.txt

    def as_dict(self) -> dict[str, Any]:
        return {"fetched": self.fetched, "written": self.written, "robots_blocked": len(self.robots_blocked),
                "errors": len(self.errors)}


def site_of(url: str) -> str:
    """The site a link belongs to, as the scanner groups pages (``pipeline.site.domain_of``); "" if none."""
    return domain_of(url) or ""


def _norm(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def url_lang(url: str) -> str | None:
    """A language hint in the URL: a first path segment such as ``/pl/`` or ``?lang=pl``."""
    parts = urllib.parse.urlsplit(url)
    seg = next((s for s in parts.path.split("/") if s), "")
    if _LANG_SEG.match(seg):
        return seg[:2].lower()
    for k, v in urllib.parse.parse_qsl(parts.query):
        if k.lower() in ("lang", "language", "hl", "locale") and v[:2].isalpha():
            return v[:2].lower()
    return None


def extract_links(html: bytes, base: str) -> tuple[str | None, list[tuple[str, str | None, bool]]]:
    """(page language, [(absolute url, language hint, is an hreflang alternate)]); [] on junk."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # noqa: BLE001 - unparsable page: no links, never a crash
        return None, []
    page_lang = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "")[:2].lower() or None
    out: list[tuple[str, str | None, bool]] = []
    for el in root.iter("a", "link"):
        href = el.get("href")
        if not href:
            continue
        if el.tag == "link" and "alternate" not in (el.get("rel") or "").lower().split():
            continue
        url = urllib.parse.urljoin(base, href.strip())
        if not url.startswith(("http://", "https://")):
            continue
        hint = (el.get("hreflang") or "")[:2].lower() or url_lang(url)
        out.append((urllib.parse.urldefrag(url)[0], hint, el.tag == "link"))
    return page_lang, out


class _Fetcher:
    """urllib with our user agent, a per-host delay and a size cap; records request times."""

    def __init__(self, cfg: CrawlConfig, stats: CrawlStats, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ua = cfg.user_agent
        self.delay = float(cfg.delay_s)
        self.timeout = float(cfg.timeout_s)
        self.max_bytes = int(cfg.max_bytes)
        self.stats = stats
        self.sleep = sleep
        self.last: dict[str, float] = {}
        self.host_delay: dict[str, float] = {}

    def get(self, url: str) -> tuple[int, str, list[tuple[str, str]], bytes, dict[str, str]]:
        host = urllib.parse.urlsplit(url).netloc.lower()
        wait = self.last.get(host, -1e9) + self.host_delay.get(host, self.delay) - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        req = urllib.request.Request(url, headers={"User-Agent": self.ua, "Accept": "*/*"})
        self.stats.requests.append((url, time.monotonic()))
        req_headers = {"User-Agent": self.ua, "Host": host, "Accept": "*/*"}
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read(self.max_bytes + 1)
                code, reason, headers = resp.status, resp.reason, list(resp.headers.items())
        except urllib.error.HTTPError as exc:
            body = exc.read(self.max_bytes + 1) if exc.fp else b""
            code, reason, headers = exc.code, str(exc.reason), list(exc.headers.items()) if exc.headers else []
        finally:
            self.last[host] = time.monotonic()
        return code, reason, headers, body, req_headers


def crawl_to_warc(seeds: list[str], warc_path: str | Path, cfg: CrawlConfig, *,
                  log: Callable[[str], None] = lambda m: None,
                  sleep: Callable[[float], None] = time.sleep) -> CrawlStats:
    """Crawl from ``seeds`` with the ``[crawl]`` settings and write ``warc_path`` (gzipped WARC).

    The file appears only when the crawl is complete (``fsutil.atomic_open``: a temp file, renamed).
    Network errors are counted and logged, never raised.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    stats = CrawlStats()
    fetcher = _Fetcher(cfg, stats, sleep)
    prefer = [l.lower() for l in cfg.prefer_languages]
    max_depth, per_site = int(cfg.max_depth), int(cfg.max_pages_per_site)
    same_site, obey = bool(cfg.same_site), bool(cfg.obey_robots)
    robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
    pages: dict[str, int] = {}
    seen: set[str] = set()
    queue: list[tuple[int, int, int, str]] = []  # (depth, language rank, seq, url)
    seq = 0

    def lang_rank(hint: str | None) -> int:
        if not prefer or hint is None:
            return 1
        return 0 if hint in prefer else 2

    def push(url: str, depth: int, hint: str | None) -> None:
        nonlocal seq
        url = _norm(url)
        if url in seen:
            return
        seen.add(url)
        seq += 1
        heapq.heappush(queue, (depth, lang_rank(hint), seq, url))

    for s in seeds:
        push(s, 0, url_lang(s))

    path = Path(warc_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        info = writer.create_warcinfo_record(path.name, {
            "software": "csei-nlp discover crawler", "format": "WARC File Format 1.1",
            "http-header-user-agent": cfg.user_agent, "robots": "obey" if obey else "ignore",
        })
        writer.write_record(info)
        while queue:
            depth, _, _, url = heapq.heappop(queue)
            site = site_of(url)
            if pages.get(site, 0) >= per_site:
                continue
            parts = urllib.parse.urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if obey:
                if origin not in robots:
                    robots[origin] = _load_robots(origin, fetcher, log)
                    rp = robots[origin]
                    if rp is not None:
                        cd = rp.crawl_delay(cfg.user_agent)
                        if cd and float(cd) > fetcher.delay:
                            fetcher.host_delay[parts.netloc.lower()] = float(cd)
                rp = robots[origin]
                if rp is not None and not rp.can_fetch(cfg.user_agent, url):
                    stats.robots_blocked.append(url)
                    log(f"robots.txt disallows {url}")
                    continue
            try:
                code, reason, headers, body, req_headers = fetcher.get(url)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                stats.errors.append(f"{url}: {exc}")
                log(f"fetch failed: {url}: {exc}")
                continue
            stats.fetched += 1
            pages[site] = pages.get(site, 0) + 1
            if len(body) > fetcher.max_bytes:
                stats.errors.append(f"{url}: larger than {fetcher.max_bytes} bytes, not kept")
                continue
            ctype = next((v for k, v in headers if k.lower() == "content-type"), "").split(";")[0].strip().lower()
            date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            # urllib has already undone chunking; keep the header for the record, not for replay
            headers = [(k, v) if k.lower() != "transfer-encoding" else ("X-Crawler-Transfer-Encoding", v)
                       for k, v in headers]
            req_line = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
            req = writer.create_warc_record(
                url, "request", payload=BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {req_line} HTTP/1.1", list(req_headers.items()),
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": date})
            resp = writer.create_warc_record(
                url, "response", payload=BytesIO(body),
                http_headers=StatusAndHeaders(f"{code} {reason}", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": date})
            writer.write_request_response_pair(req, resp)
            stats.written += 1
            if code != 200 or ctype not in HTML_TYPES or depth >= max_depth:
                continue
            _, links = extract_links(body, url)
            for link, hint, alternate in links:
                if same_site and site_of(link) != site:
                    continue
                # a translation of this page in a preferred language is worth as much as the page
                push(link, depth if alternate and lang_rank(hint) == 0 else depth + 1, hint)
    return stats


def _load_robots(origin: str, fetcher: _Fetcher, log: Callable[[str], None]) -> urllib.robotparser.RobotFileParser | None:
    """robots.txt of one origin; ``None`` means "no rules" (404 or unreachable: allowed).

    A 401/403 on robots.txt means the whole site is off limits (the usual crawler reading).
    """
    rp = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
    try:
        code, _, _, body, _ = fetcher.get(origin + "/robots.txt")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log(f"robots.txt unreachable at {origin}: {exc}; crawling without rules")
        return None
    if code in (401, 403):
        rp.disallow_all = True
        return rp
    if code >= 400:
        return None
    rp.parse(body.decode("utf-8", "replace").splitlines())
    return rp
