"""Clean-up of the text a PDF engine gives, before cue matching sees it.

Why a module of its own: these rules are about characters and words (ligatures,
soft and line-end hyphens, unmapped glyphs), not about where text sits on a
page, and they are tested and tuned apart from the layout.

* Ligature code points U+FB00-FB06 become their letters (NFKC on those code
  points only).  NFKC on the whole text is not applied: it also rewrites
  superscript footnote markers ("innovation²" -> "innovation2"), fractions,
  the ™ sign and full-width forms, which damages text we later match cues
  against.  NFC is applied to everything; it only composes letters with
  combining accents (c + U+030C -> č, common in CEE PDFs) and changes no
  meaning.
* Soft hyphens (U+00AD) are removed; at a line end they join the word.
* ``(cid:NN)`` tokens are measured per page (:func:`cid_ratio`); a page whose
  share of them is above ``[pdf] max_cid_ratio`` is unextractable.
* Line-end hyphens are resolved by :func:`dehyphenate` (rule in its docstring).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_LIGATURES = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_LIGATURE_RE = re.compile("[\ufb00-\ufb06]")
CID_RE = re.compile(r"\(cid:\d+\)")
_SOFT_HYPHEN_EOL_RE = re.compile("\u00ad[ \t]*\n[ \t]*")
_LETTERS = r"[^\W\d_]+"
# A word fragment, a hyphen (ASCII or U+2010) at the end of a line, optionally one blank
# line (a column or band break), then the continuation.
_EOL_HYPHEN_RE = re.compile(rf"({_LETTERS})[-\u2010][ \t]*\n(?:[ \t]*\n)?[ \t]*({_LETTERS})")
_MIDLINE_COMPOUND_RE = re.compile(rf"(?<![\w-])({_LETTERS})-({_LETTERS})(?![\w-])")
_WORD_RE = re.compile(_LETTERS)

# Conjunctions after a "suspended" hyphen ("Sozial- und Umweltinnovation", "social- and
# ecological", "sociálne- a environmentálne"): the hyphen belongs to the first word.
SUSPENDED_HYPHEN_CONJUNCTIONS: frozenset[str] = frozenset(
    """
    and or nor und oder bzw sowie noch et ou ni e o y u ed od en of og eller och samt
    ja tai sekä ning või ir arba un vai a i ali ani alebo aj či nebo ani oraz lub albo ni
    és vagy s ili te pa și sau ori и или ни та і й або
    """.split()
)


def normalize_text(text: str) -> str:
    """Ligatures to letters, NFC, soft hyphens removed (joining words at line ends)."""
    text = _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text)
    text = unicodedata.normalize("NFC", text)
    text = _SOFT_HYPHEN_EOL_RE.sub("", text)
    return text.replace("\u00ad", "")


def build_vocabulary(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """Lower-cased words and hyphenated compounds seen away from line-end hyphens."""
    words: set[str] = set()
    compounds: set[str] = set()
    for text in texts:
        rest = _EOL_HYPHEN_RE.sub(" ", text)
        words.update(w.lower() for w in _WORD_RE.findall(rest))
        compounds.update(f"{a}-{b}".lower() for a, b in _MIDLINE_COMPOUND_RE.findall(rest))
    return words, compounds


def dehyphenate(
    text: str, vocabulary: tuple[set[str], set[str]] | None = None, stats: Counter | None = None
) -> str:
    """Resolve hyphens at line ends: join a word broken by typesetting, keep real hyphens.

    For ``head-`` at a line end followed by ``tail`` on the next line, first rule that
    applies wins (words compared lower-cased, against the whole document):

    1. ``head-tail`` occurs elsewhere in the document with its hyphen -> keep.
    2. ``tail`` is a conjunction ("und", "and", "a", "i", "oder" ...): a suspended
       hyphen as in "Sozial- und Umweltinnovation" -> keep, with the space.
    3. ``tail`` starts with a capital ("EU-Kommission", "Nord-Süd") -> keep; a word
       broken by hyphenation continues in lower case.
    4. ``headtail`` occurs elsewhere in the document -> join ("inno-/vation").
    5. ``head`` and ``tail`` both occur as standalone words -> keep
       ("social-/economy" gives "social-economy").
    6. otherwise join: at least one part is not a word of this document, so it is a
       fragment ("partici-/pation").

    Fragments next to line-end hyphens do not count as known words.  A hyphen before
    a digit ("COVID-/19") is never touched.  Rule 5 keeps a few broken words whose
    parts are words ("work-/shop" when "workshop" appears nowhere else); rejoining
    a real compound would be the worse error for cue matching.
    ``vocabulary`` comes from :func:`build_vocabulary` over the whole document (pages
    are dehyphenated one at a time against it); ``stats`` counts joined/kept.
    """
    words, compounds = vocabulary if vocabulary is not None else build_vocabulary([text])

    def fix(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        lh, lt = head.lower(), tail.lower()
        if f"{lh}-{lt}" in compounds:
            keep = f"{head}-{tail}"
        elif lt in SUSPENDED_HYPHEN_CONJUNCTIONS:
            keep = f"{head}- {tail}"
        elif tail[0].isupper():
            keep = f"{head}-{tail}"
        elif lh + lt in words:
            keep = ""
        elif lh in words and lt in words:
            keep = f"{head}-{tail}"
        else:
            keep = ""
        if stats is not None:
            stats["hyphens_kept" if keep else "hyphens_joined"] += 1
        return keep or head + tail

    return _EOL_HYPHEN_RE.sub(fix, text)


def cid_ratio(text: str) -> float:
    """Share of ``(cid:NN)`` tokens among the visible glyphs of ``text``."""
    n_cid = len(CID_RE.findall(text))
    if not n_cid:
        return 0.0
    rest = CID_RE.sub("", text)
    n_other = sum(1 for ch in rest if not ch.isspace())
    return n_cid / (n_cid + n_other)
