"""What a job selects from the index: its ``[inputs.commoncrawl]`` keys as one :class:`IndexFilter`.

Why URL patterns from the cue lists: in an index of tens of millions of
Central and Eastern European pages, the URL is the only text there is before
fetching.  A cluster's own site often says what it is in its address
(``klaster-...``, ``/o-klastrze``, ``partnerstvo``), so ``url_terms`` turns the
self-designation (and, if asked, legal-form) terms of the job's focus
languages into URL patterns: each word folded to ASCII as slugs write it
(``spółdzielnia`` -> ``spoldzielnia``), a stemmed word (``klastr*``) open at the
end, the words of a phrase joined by ``-``, ``_``, ``+``, ``.`` or an encoded
space, and words in another script (Cyrillic, Greek) also in their
percent-encoded UTF-8 form, as they stand in the index's ``url`` column.
Acronyms (``=LAG``) and one-word terms under five letters are left out: they
are parts of too many unrelated URLs ("hub" in github, Czech "sítě" folded to "site").

Host expansion asks, per site, for its "about", "members" and "partners" pages
first: :data:`EXPANSION_PATHS` holds those words in the EU languages, as they
appear in URL paths.
"""
from __future__ import annotations

import re
import urllib.parse

from ...pipeline.cues import available_languages, fold, load_terms
from ...store.ccindex import IndexFilter
from ..job import CommonCrawlSection, Job

MIN_URL_TERM = 5  # shortest word used alone: "hub" is in github, Czech "síť"/"sítě" fold to "sit"/"site"
_SEP = r"(?:[-_+.]|%20)"
_STEM_TAIL = r"[a-z0-9%]*"

# "About us", "members", "partners" (and "who we are") in URL paths, EU languages; matched in the
# lower-cased path, as substrings.
EXPANSION_PATHS: tuple[str, ...] = (
    # about / who we are
    "about", "ueber-uns", "uber-uns", "wir-ueber-uns", "qui-sommes", "a-propos", "apropos", "chi-siamo",
    "quienes-somos", "sobre-nos", "quem-somos", "over-ons", "om-oss", "om-os", "tietoa", "meista",
    "o-nas", "o-nama", "o-klastr", "o-klaster", "o-projek", "o-spolecnosti", "o-spolocnosti", "rolunk",
    "magunkrol", "despre", "despre-noi", "za-nas", "apie", "par-mums", "par-mum", "meist", "kes-me",
    "chi-sono", "la-asociatie", "qui-som", "nosaltres",
    # members
    "member", "mitglied", "membre", "membri", "miembro", "socios", "leden", "medlem", "jasen",
    "czlon", "clen", "clan", "tagja", "tagok", "nariai", "nariu", "biedr", "liikme", "membrii",
    "chlenove", "%d1%87%d0%bb%d0%b5%d0%bd",  # член (bg, mk, uk) percent-encoded
    # partners
    "partner", "partenai", "partenari", "socios", "partneri", "partnerzy", "partnerek",
    "%d0%bf%d0%b0%d1%80%d1%82%d0%bd%d1%8c%d0%be%d1%80",  # партньор (bg)
)


def _word_pattern(word: str) -> list[str]:
    """Regex alternatives for one cue word as it may appear in a URL (lower case)."""
    stemmed = word.endswith("*")
    word = word.rstrip("*").lower()
    tail = _STEM_TAIL if stemmed else ""
    out = []
    ascii_form = fold(word)
    if ascii_form.isascii():
        out.append(re.escape(ascii_form) + tail)
    if not word.isascii():  # as in the index's url column: percent-encoded UTF-8, lower-cased hex;
        # lower-casing the URL does not lower-case an encoded capital, so the capitalised word too
        for form in dict.fromkeys((word, word[:1].upper() + word[1:])):
            out.append(re.escape(urllib.parse.quote(form, safe="").lower()) + tail)
    return list(dict.fromkeys(out))


def term_patterns(groups: list[str], languages: list[str]) -> list[str]:
    """URL patterns for the cue terms of ``groups`` in ``languages`` (every cue language if empty)."""
    have = set(available_languages())
    langs = [l for l in languages if l in have] or sorted(have)
    out: dict[str, None] = {}
    for lang in langs:
        for t in load_terms(lang):
            if t.group not in groups or t.case_sensitive:
                continue
            words = t.surface.split()
            if len(words) == 1 and len(fold(words[0].rstrip("*"))) < MIN_URL_TERM:
                continue
            alts = [_word_pattern(w) for w in words]
            if any(not a for a in alts):
                continue
            parts = [a[0] if len(a) == 1 else "(?:" + "|".join(a) + ")" for a in alts]
            out[_SEP.join(parts)] = None
    return list(out)


def url_pattern(cc: CommonCrawlSection, languages: list[str]) -> str:
    """One RE2 pattern: any of ``url_contains`` (as substrings) or of the ``url_terms`` patterns."""
    alts = [re.escape(s.lower()) for s in cc.url_contains if s]
    if cc.url_terms:
        alts += term_patterns(cc.url_terms.split("+"), languages)
    return "|".join(alts)


def index_filter(job: Job) -> IndexFilter:
    """The job's selection (its focus languages give the ``url_terms``)."""
    cc = job.commoncrawl
    assert cc is not None
    return IndexFilter(tlds=tuple(cc.tlds), url_pattern=url_pattern(cc, job.languages),
                       languages=tuple(cc.languages), limit=cc.max_records)


def expansion_pattern() -> str:
    return "|".join(re.escape(w) for w in dict.fromkeys(EXPANSION_PATHS))
