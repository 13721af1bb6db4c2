"""Which other organisations' web addresses a page mentions.

A newspaper's article about one cluster ends with "More: www.klaster-x.pl";
a portal's profile has a "Website" field; an HTML page links to the
organisation.  Those addresses are how a third-party page is attached to the
organisation it describes (``attach.py``), so that the article counts for the
cluster and the newspaper does not become a candidate itself.

Addresses of platforms that every page mentions (social networks, video,
search, app stores, the EU's funding logos) say nothing about who a page is
about and are left out.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from .site import domain_of

MAX_DOMAINS = 10

# Found in text: "www.x.pl", "https://x.pl/...", "x.pl/kontakt", e-mail domains "info@x.pl".
_URL_RE = re.compile(
    r"(?:(?:https?://)|(?<![\w@.-])www\.|(?<=@))"
    r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24})",
    re.I,
)

PLATFORMS = frozenset("""
facebook.com fb.com fb.me instagram.com twitter.com x.com t.co linkedin.com youtube.com youtu.be
tiktok.com pinterest.com vimeo.com flickr.com whatsapp.com telegram.org t.me threads.net
google.com goo.gl maps.app.goo.gl apple.com gmail.com outlook.com hotmail.com yahoo.com
wordpress.com wix.com wixsite.com squarespace.com blogspot.com issuu.com
europa.eu wikipedia.org bit.ly cookiebot.com onetrust.com gov.pl
""".split())


def mentioned_domains(text: str, links: Iterable[str] = (), own_site: str | None = None) -> list[list]:
    """[[domain, count], ...] of the registrable domains a page names or links to, most first.

    The page's own site and platform domains are left out.
    """
    counts: Counter = Counter()
    for m in _URL_RE.finditer(text or ""):
        d = domain_of("http://" + m.group(1))
        if d:
            counts[d] += 1
    for href in links or ():
        d = domain_of(href)
        if d:
            counts[d] += 1
    for d in list(counts):
        if d == own_site or d in PLATFORMS or any(d.endswith("." + p) for p in PLATFORMS):
            del counts[d]
    return [[d, n] for d, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_DOMAINS]]
