"""Remove page chrome from plain text: navigation, language switchers, cookie text.

Pages that arrive as text (JSONL exports of a crawl, saved ``.txt`` files)
carry what the site prints around its content: a menu, one item a line; a
language switcher ("PL | EN | DE"); a cookie banner; "Skip to content".  HTML
pages lose most of this in main-text extraction, exported text does not.  Left
in, it reaches the embedder first and moves a page's vector towards every other
page with the same menu, so the decision about a page would depend on its
template.  This step keeps the decision on the content.

What goes:

* consent paragraphs and their buttons (:mod:`.consent`), anywhere;
* language-switcher lines: only language codes or language names;
* "skip to content"-like lines;
* the navigation block at the top: the leading run of short lines (at most
  ``NAV_MAX_WORDS`` words, no sentence punctuation), when real content follows.
  Lists in the middle of a page (a members list) are content and stay.

Footers stay: an address is territorial evidence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...config import Config
from .consent import filter_consent

NAV_MAX_WORDS = 4       # a menu item is at most this many words
CONTENT_MIN_WORDS = 8   # a line with at least this many words is content

_LANG_TOKENS = frozenset("""
bg cs cz da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv uk ru sr ca eu gl
eng ger fra deu esp ita pol
english deutsch français francais español espanol italiano polski čeština cestina slovenčina
slovencina magyar română romana български hrvatski slovenščina slovenscina lietuvių lietuviu
latviešu latviesu eesti suomi svenska dansk nederlands português portugues ελληνικά gaeilge
malti українська català catala euskara galego русский srpski српски
""".split())
_SWITCH_SPLIT = re.compile(r"[\s|/·•,;:]+")
_SKIP_RE = re.compile(
    r"^\W*(skip to (main )?content|zum inhalt springen|przejdź do treści|přejít na obsah|prejsť na obsah|"
    r"aller au contenu|vai al contenuto|ir al contenido|saltar al contenido|ugrás a tartalomra|"
    r"preskoči na sadržaj|pereiti|menu|menü|meni|меню|close|zavřít|zamknij|search|szukaj|hledat|suche|"
    r"rechercher|cerca|buscar)\W*$",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?…:;]\s*$")


@dataclass(slots=True)
class ChromeResult:
    text: str
    removed: list[str] = field(default_factory=list)

    @property
    def n_removed(self) -> int:
        return len(self.removed)


def is_language_switcher(line: str) -> bool:
    toks = [t.lower() for t in _SWITCH_SPLIT.split(line.strip()) if t]
    return bool(toks) and len(toks) <= 30 and all(t in _LANG_TOKENS for t in toks)


def _words(line: str) -> int:
    return len(line.split())


def _is_nav_line(line: str) -> bool:
    s = line.strip()
    if not s:
        return True
    if is_language_switcher(s) or _SKIP_RE.match(s):
        return True
    return _words(s) <= NAV_MAX_WORDS and not _SENTENCE_END.search(s)


def clean_text(text: str, cfg: Config, consent_done: bool = False) -> ChromeResult:
    """Page text as the scanner keeps it: chrome removed when ``[extract] strip_chrome`` is on.

    The one entry point for the scanner (``process``) and training (``train.data``),
    so that both see the same text.  ``consent_done``: the HTML extractor has already
    filtered consent text, so it is not filtered twice.
    """
    if not cfg.extract.strip_chrome:
        return ChromeResult(text=text.strip())
    return strip_chrome(text, consent=not consent_done)


def strip_chrome(text: str, consent: bool = True) -> ChromeResult:
    """``text`` without consent text (unless ``consent`` is False), switchers and the leading
    navigation block."""
    removed: list[str] = []
    if consent:
        filtered = filter_consent(text)
        removed += filtered.removed
        lines = filtered.text.split("\n")
    else:
        lines = text.split("\n")
    kept: list[str] = []
    for line in lines:
        s = line.strip()
        if s and (is_language_switcher(s) or _SKIP_RE.match(s)):
            removed.append(line)
            continue
        kept.append(line)
    # The leading navigation block: the run of short lines before the first other line,
    # when real content follows it.
    n_nav = 0
    while n_nav < len(kept) and _is_nav_line(kept[n_nav]):
        n_nav += 1
    if any(_words(line) >= CONTENT_MIN_WORDS for line in kept[n_nav:]):
        nav = kept[:n_nav]
        # The last short line before the content often is its heading (the page title): keep it.
        while nav and not nav[-1].strip():
            nav.pop()
        nav = nav[:-1]
        if sum(1 for line in nav if line.strip()) >= 2:
            removed += [line for line in nav if line.strip()]
            kept = kept[len(nav):]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if len(out) < 0.2 * len(text.strip()) and len(out) < 200:
        # Nearly everything looked like chrome: better to keep the page as it came.
        return ChromeResult(text=text.strip(), removed=[])
    return ChromeResult(text=out, removed=removed)
