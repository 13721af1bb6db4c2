"""The polite crawler against a local HTTP server serving tests/fixtures/discover/site/."""
from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import pytest

from csei_nlp.discover.crawl import crawl_to_warc, extract_links, url_lang
from csei_nlp.discover.job import CrawlConfig

UA = "csei-test-crawler/1.0"


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list[tuple[str, float, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).log.append((self.path, time.monotonic(), self.headers.get("User-Agent", "")))
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def site(fixtures_dir: Path):
    handler = type("H", (_Handler,), {"log": []})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(fixtures_dir / "discover" / "site")))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.log
    finally:
        server.shutdown()
        server.server_close()


def _cfg(**kw):
    return CrawlConfig(**{"user_agent": UA, "delay_s": 0.25, "timeout_s": 5.0, **kw})


def _records(path: Path):
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                 r.http_headers.get_statuscode() if r.http_headers and r.rec_type == "response" else None,
                 r.content_stream().read())
                for r in ArchiveIterator(fh)]


def test_crawler_obeys_robots_delay_depth_and_same_site(site, tmp_path):
    base, log = site
    out = tmp_path / "crawl.warc.gz"
    stats = crawl_to_warc([base + "/index.html"], out, _cfg(max_depth=1, max_pages_per_site=20))
    paths = [p for p, _, _ in log]
    assert paths[0] == "/robots.txt"
    assert not any(p.startswith("/private/") for p in paths), paths
    assert stats.robots_blocked == [base + "/private/board-minutes.html"]
    # depth 1: the home page's links are fetched, links found on them are not
    assert "/en/about.html" in paths and "/en/deep.html" not in paths
    # same site only: the outside link is never requested (it would fail, not be logged)
    assert stats.errors == []
    # every request carries our user agent and is at least delay_s after the previous one
    assert {ua for _, _, ua in log} == {UA}
    times = [t for _, t, _ in log]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) >= 4 and min(gaps) >= 0.25 - 0.01, gaps
    # a standard WARC: warcinfo, then a request and a response per page
    recs = _records(out)
    assert recs[0][0] == "warcinfo"
    pairs = [recs[i:i + 2] for i in range(1, len(recs), 2)]
    assert len(pairs) == stats.written
    for a, b in pairs:  # warcio writes the response, then its request, for the same URI
        assert {a[0], b[0]} == {"request", "response"} and a[1] == b[1]
    req = next(r for r in recs if r[0] == "request")
    assert req[3] == b"" 
    fetched = {r[1] for r in recs if r[0] == "response"}
    assert base + "/index.html" in fetched and base + "/private/board-minutes.html" not in fetched
    home = next(r for r in recs if r[0] == "response" and r[1] == base + "/index.html")
    assert home[2] == "200" and b"Dolina Partnership" in home[3]
    assert not out.with_name(out.name + ".part").exists()


def test_crawler_spends_page_budget_on_preferred_language(site, tmp_path):
    base, log = site
    out = tmp_path / "pl.warc.gz"
    crawl_to_warc([base + "/index.html"], out, _cfg(delay_s=0.0, max_depth=3, max_pages_per_site=4,
                                                    prefer_languages=["pl"]))
    pages = [p for p, _, _ in log if p != "/robots.txt"]
    assert pages == ["/index.html", "/pl/index.html", "/pl/o-nas.html", "/pl/czlonkowie.html"], pages
    # without a preference the same budget goes to the English pages linked first
    log.clear()
    crawl_to_warc([base + "/index.html"], tmp_path / "any.warc.gz",
                  _cfg(delay_s=0.0, max_depth=3, max_pages_per_site=4, prefer_languages=[]))
    pages = [p for p, _, _ in log if p != "/robots.txt"]
    assert pages == ["/index.html", "/pl/index.html", "/en/about.html", "/en/members.html"], pages


def test_crawled_warc_feeds_the_reader(site, tmp_path, cfg):
    from csei_nlp.pipeline.read import iter_inputs

    base, _ = site
    out = tmp_path / "c.warc.gz"
    crawl_to_warc([base + "/pl/index.html"], out, _cfg(delay_s=0.0, max_depth=1))
    raws = [r for r in iter_inputs([out], cfg) if r.status == "ok"]
    urls = sorted(r.url for r in raws)
    # the page's links plus its hreflang alternate (the English home page), one level deep
    assert urls == [base + "/index.html", base + "/pl/czlonkowie.html", base + "/pl/index.html",
                    base + "/pl/o-nas.html"]
    assert all(r.media == "html" and r.offset is not None for r in raws)


def test_link_and_language_hints():
    html = (b'<html lang="pl"><head><link rel="alternate" hreflang="de" href="/de/"></head><body>'
            b'<a href="o-nas.html#x">a</a><a href="mailto:x@y.z">m</a><a href="/en/about">e</a></body></html>')
    lang, links = extract_links(html, "https://ex.org/pl/index.html")
    assert lang == "pl"
    assert links == [("https://ex.org/de/", "de", True), ("https://ex.org/pl/o-nas.html", "pl", False),
                     ("https://ex.org/en/about", "en", False)]
    assert url_lang("https://ex.org/index.php?lang=hu") == "hu"
    assert url_lang("https://ex.org/about/") is None
    assert extract_links(b"\x00\x01", "https://ex.org/") == (None, [])
