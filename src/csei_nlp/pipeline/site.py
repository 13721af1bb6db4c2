"""Which organisation (web site) a document belongs to.

Profiles are built per site, so pages of ``www.klaster.lomza.pl`` and
``klaster.lomza.pl`` must share a key, while ``a.blogspot.com`` and
``b.blogspot.com`` must not. We use the registrable domain from the Public
Suffix List bundled with tldextract - offline: the list is never fetched at run
time, so results do not change from one run to the next.

This module is the one definition of a site: the scanner's profiles
(``site_key``), the crawler's same-site rule (``discover.crawl.site_of``), the
known-case matching in ``rank`` and the ccTLD lookup in ``country`` all go
through it.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit

_HOST_RE = re.compile(r"^[a-z0-9_\-]+(\.[a-z0-9_\-]+)*$")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*:(?!\d)", re.I)


@lru_cache(maxsize=1)
def _extractor():  # type: ignore[no-untyped-def]
    import tldextract

    # No suffix-list URLs and no cache dir: use the snapshot shipped in the package,
    # never the network, never ~/.cache. Private suffixes (blogspot.com, github.io)
    # separate the sites hosted under them.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True,
                                 include_psl_private_domains=True)


def host_of(url: str | None) -> str | None:
    """The normalised host of an http(s) address or bare ``host/path``: lower case, IDNA, no port; else None."""
    return _host(url) if url else None


def _host(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    if "://" not in url and not url.startswith("//"):
        if _SCHEME_RE.match(url):
            return None  # mailto:, javascript:, tel: ...
        url = "//" + url  # "example.org/page" as written in some exports
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return None
    if not host:
        return None
    host = host.strip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    return host if _HOST_RE.match(host) else None


def domain_of(url: str | None) -> str | None:
    """The registrable domain of ``url`` (``www.`` dropped, lower case), or None."""
    if not url:
        return None
    host = _host(url)
    if host is None:
        return None
    return _domain_of_host(host)


@lru_cache(maxsize=65536)
def _domain_of_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host  # an IP address is its own site
    except ValueError:
        pass
    ext = _extractor()(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    # localhost, intranet names, unknown suffixes: keep the host itself.
    return host[4:] if host.startswith("www.") else host


def site_key(url: str | None, canonical_url: str | None, source_path: str, site: str | None = None) -> str:
    """Registrable domain of ``url``, else of ``canonical_url``, else ``site`` (from a
    sidecar), else ``file:<path>``.

    A file without any address is its own source.  It is never grouped with the
    other files of its folder: a folder of downloaded reports is not one
    organisation, and grouping it would let one report's cluster vocabulary
    speak for an unrelated newsletter beside it.
    """
    for candidate in (url, canonical_url):
        d = domain_of(candidate)
        if d:
            return d
    if site and site.strip():
        return domain_of(site) or site.strip().lower()
    return f"file:{PurePath(source_path).as_posix()}"
