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
