"""site_key: registrable domain offline, with fallbacks."""
from __future__ import annotations

import socket

import pytest

from csei_nlp.pipeline.site import domain_of, site_key


@pytest.mark.parametrize("url,expected", [
    ("http://WWW.Ergotep.CZ/o-nas.php", "ergotep.cz"),
    ("https://www.bbc.co.uk/news", "bbc.co.uk"),
    ("http://klasterspoleczny.lomza.pl/o-klastrze/", "klasterspoleczny.lomza.pl"),  # lomza.pl is a public suffix
    ("https://a.blogspot.com/x", "a.blogspot.com"),                                  # private suffix separates blogs
    ("https://zadruga.coop.hr:8443/a?b#c", "coop.hr"),
    ("http://münchen.de/", "xn--mnchen-3ya.de"),
    ("http://192.168.1.20/intranet", "192.168.1.20"),
    ("http://localhost:8000/", "localhost"),
    ("example.org/page", "example.org"),
])
def test_domains(url, expected):
    assert site_key(url, None, "/crawl/x/page.html") == expected


def test_fallbacks():
    assert site_key(None, "https://www.skola.sk/kontakt", "/c/a.html") == "skola.sk"
    assert site_key("mailto:info@skola.sk", "https://www.skola.sk/", "/c/a.html") == "skola.sk"
    # a file without an address is its own source, never its folder
    assert site_key(None, None, "/crawl/klaster-gemer/o-nas.html") == "file:/crawl/klaster-gemer/o-nas.html"
    assert site_key(None, None, "/crawl/klaster-gemer/kontakt.html") != site_key(None, None, "/crawl/klaster-gemer/o-nas.html")
    assert site_key("not a url", None, "o-nas.html") == "file:o-nas.html"
    # unless a sidecar names its site
    assert site_key(None, None, "/reports/r.pdf", "https://www.klaster-gemer.sk/") == "klaster-gemer.sk"
    assert domain_of("javascript:void(0)") is None and domain_of("ftp://files.example.org/") is None


def test_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("site_key must not touch the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from csei_nlp.pipeline import site

    site._extractor.cache_clear()
    site._domain_of_host.cache_clear()
    assert site_key("https://www.pomoc.gov.pl/x", None, "a.html") == "pomoc.gov.pl"


@pytest.mark.parametrize("a,b,same", [
    ("https://www.klaster.lomza.pl/a", "http://klaster.lomza.pl/b", True),
    ("https://news.example.org/x", "https://www.example.org/", True),   # one organisation, one site
    ("https://a.blogspot.com/x", "https://b.blogspot.com/x", False),
    ("https://example.org/", "https://example.com/", False),
])
def test_one_definition_of_a_site(a, b, same):
    """The crawler's same-site rule, the scanner's profiles and country lookup share pipeline.site."""
    from csei_nlp.discover.crawl import site_of

    assert site_of(a) == site_key(a, None, "x") and site_of(b) == site_key(b, None, "x")
    assert (site_of(a) == site_of(b)) is same
    assert site_of("mailto:x@example.org") == ""


def test_country_and_known_cases_parse_sites_with_pipeline_site():
    from csei_nlp.country import country_from_tld, infer_country

    assert country_from_tld("klaster.lomza.pl") == "PL"
    assert country_from_tld("https://www.zadruga.coop.hr:8443/a") == "HR"
    assert country_from_tld("http://пример.бг/") == "BG"  # IDN ccTLD, punycoded by pipeline.site
    assert country_from_tld("file:/crawl/a.html") is None and country_from_tld("example.org") is None
    assert infer_country("http://пример.бг/", [], None).country == "BG"


def test_source_ref_has_one_owner():
    from csei_nlp.types import Document, RawInput, source_ref

    assert source_ref("a.warc.gz", 1200) == "a.warc.gz@1200" and source_ref("r.pdf") == "r.pdf"
    assert RawInput(source="a.warc.gz", media="html", offset=0).source_ref == "a.warc.gz@0"
    assert Document.from_raw(RawInput(source="r.pdf", media="pdf")).source_ref == "r.pdf"
