"""Cue term files: ``resources/cues/<lang>.json`` -> validated :class:`Term` records, and folding.

Why: the term lists are data edited by people; every term is checked here
(known group and label, stems long enough to stay precise) before any
matcher is built, and the folding rule that makes "spoldzielnia" match
"spółdzielnia" is defined once for term files and texts alike.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .groups import CUE_GROUPS

MIN_STEM = 4  # shortest stem of a one-word term
MIN_STEM_PHRASE = 3  # in a multi-word term the other words keep a short stem precise ("rad* nadzorcz*")
EXTRA_INFIX = r"[-–—‐‑/'’‘ʼ]"  # split off inside words, in texts and in terms alike

# Language codes that name a language we hold under another code.
_LANG_ALIASES: dict[str, tuple[str, ...]] = {
    "hbs": ("hr", "sr", "bs"),
    "sh": ("hr", "sr", "bs"),
    "cnr": ("sr",),
    "me": ("sr",),
}

_SPECIAL_FOLD = str.maketrans({
    "ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h",
    "ŀ": "l", "þ": "th", "ð": "d", "ς": "σ", "’": "'", "‘": "'", "ʼ": "'", "`": "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-",
})


def fold(text: str) -> str:
    """Lowercase, strip diacritics (also in Cyrillic and Greek) and unify quotes/dashes."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_SPECIAL_FOLD)


@dataclass(frozen=True, slots=True)
class Term:
    group: str
    label: str
    text: str  # as written in the resource file (markers included)
    lang: str

    @property
    def case_sensitive(self) -> bool:
        return self.text.startswith("=")

    @property
    def surface(self) -> str:
        return self.text[1:] if self.case_sensitive else self.text

    @property
    def stemmed(self) -> bool:
        return any(tok.endswith("*") for tok in self.surface.split())


def _cue_dir():
    return resources.files("csei_nlp").joinpath("resources", "cues")


def _validate_term(lang: str, group: str, label: str, term: object) -> Term:
    where = f"resources/cues/{lang}.json [{group}/{label}]"
    if not isinstance(term, str) or not term.strip():
        raise ValueError(f"{where}: a term must be a non-empty string, got {term!r}")
    t = Term(group, label, term.strip(), lang)
    if t.case_sensitive and t.stemmed:
        raise ValueError(f"{where}: '{term}' mixes '=' (case-sensitive) and '*' (stem)")
    words = t.surface.split()
    min_len = MIN_STEM if len(words) == 1 else MIN_STEM_PHRASE
    for tok in words:
        if tok.endswith("*"):
            # the stem is the last sub-token: "co-operative*" stems "operative"
            stem = fold(re.split(EXTRA_INFIX, tok[:-1])[-1])
            if len(stem) < min_len or not stem.isalnum():
                raise ValueError(
                    f"{where}: stem '{tok}' in '{term}' is shorter than {min_len} letters "
                    "or contains punctuation; it would match too many words"
                )
    return t


@lru_cache(maxsize=None)
def load_terms(lang: str) -> tuple[Term, ...]:
    """The validated terms of one cue file (``lang`` is a file stem such as "pl" or "xx")."""
    path = _cue_dir().joinpath(f"{lang}.json")
    data = json.loads(path.read_text("utf-8"))
    groups = data.get("groups")
    if data.get("lang") != lang or not isinstance(groups, dict):
        raise ValueError(f"resources/cues/{lang}.json: needs \"lang\": \"{lang}\" and a \"groups\" table")
    where = f"resources/cues/{lang}.json"
    out: list[Term] = []
    for group, labels in groups.items():
        known = CUE_GROUPS.get(group)
        if known is None:
            raise ValueError(f"{where}: unknown group '{group}'")
        for label, terms in labels.items():
            if label not in known:
                raise ValueError(f"{where}: unknown label '{label}' in group '{group}'; "
                                 f"known: {', '.join(known)}")
            out.extend(_validate_term(lang, group, label, t) for t in terms)
    return tuple(out)


def available_languages() -> tuple[str, ...]:
    """Languages with a cue file (without the language-independent "xx")."""
    return tuple(
        sorted(p.name[:-5] for p in _cue_dir().iterdir() if p.name.endswith(".json") and p.name != "xx.json")
    )


def resolve_languages(lang: str | None) -> tuple[str, ...]:
    """Which cue files serve a document in ``lang``: its own, English and "xx".

    ``None``, "und", and languages without a cue file use all files: with no
    reliable language, recall matters more than the few cross-language collisions.
    """
    have = set(available_languages())
    if lang:
        code = lang.strip().lower().replace("_", "-").split("-")[0]
        own = _LANG_ALIASES.get(code, (code,))
        own = tuple(c for c in own if c in have)
        if own:
            return tuple(sorted(set(own) | {"en"})) + ("xx",)
    return tuple(sorted(have)) + ("xx",)
