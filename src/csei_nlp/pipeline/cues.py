"""Multilingual cue terms -> evidence spans and classifier features.

Why this exists: a CSEI page announces itself with a small vocabulary that is
cheap to find before any embedding is computed: the actor types of the
quadruple helix ("municipality", "spółdzielnia socjalna"), self-designations
("klaster", "pôle"), governance and cooperation wording, territorial anchoring
and social/ecological mission words.  The matches are (1) evidence shown to an
analyst, with exact character offsets, (2) a fixed-length feature vector for the
classifiers and (3) the cheap signal that decides whether a document is worth
embedding (the cascade).

Term lists live in ``resources/cues/<lang>.json`` (one file per language, plus
``xx.json`` for language-independent acronyms).  A term is a space-separated
token sequence, written in natural spelling; matching is on a lowercase,
diacritic-folded form of each token, so "spoldzielnia" also matches
"spółdzielnia".  Two markers keep inflecting languages matchable and precise:

* ``token*``  the token matches any word that *starts* with ``token`` (folded);
  the stem must be at least ``MIN_STEM`` characters (``MIN_STEM_PHRASE`` inside a
  multi-word term).  "szövetkezet*" matches
  "szövetkezetek", "szövetkezetünk", never "szöveg".
* ``=TERM``   the whole term is matched case-sensitively and without folding;
  for acronyms that collide with ordinary words ("=LAG", "=MAS", "=eG").

Matching is token-based (a spaCy blank tokenizer per language, with hyphens,
apostrophes and slashes split off), so a term never matches inside a longer
word unless it carries the ``*`` marker.  Exact terms go through a spaCy
``PhraseMatcher`` on ``NORM`` (the folded form is written into ``token.norm_``);
stemmed terms through a token-prefix index.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..taxonomy import CUE_LANGUAGES, FAMILIES
from ..types import Span

MIN_STEM = 4  # shortest stem of a one-word term
MIN_STEM_PHRASE = 3  # in a multi-word term the other words keep a short stem precise ("rad* nadzorcz*")
_EXTRA_INFIX = r"[-–—‐‑/'’‘ʼ]"  # split off inside words, in texts and in terms alike
MAX_CHUNK_CHARS = 200_000  # texts are tokenized in pieces of at most this size

# Cue groups and the labels inside each.  "helix" uses the taxonomy's helix labels.
CUE_GROUPS: dict[str, list[str]] = {
    "helix": list(FAMILIES["helix"]),
    "legal_form": [
        "social_cooperative", "cooperative", "social_enterprise", "wise", "nonprofit_company",
        "association", "foundation", "mutual",
    ],
    "self_designation": [
        "cluster", "pole", "hub", "network", "consortium", "alliance", "partnership",
        "ecosystem", "platform", "third_place", "local_action_group",
    ],
    "governance": ["general_assembly", "democratic", "one_member_one_vote", "membership", "board"],
    "cooperation": ["cooperation", "partners", "agreement", "pooling"],
    "territorial": ["local", "regional", "municipal", "rural"],
    "social_mission": [
        "social_economy", "inclusion", "work_integration", "disability", "vulnerable_groups",
        "social_innovation",
    ],
    "ecological_mission": [
        "circular_economy", "renewable_energy", "short_food_chain", "environment", "eco_building",
    ],
}

# A legal form also says which helix the organisation belongs to (GUIDELINES.md, helix rules).
LEGAL_FORM_HELIX: dict[str, str] = {
    "social_cooperative": "social_economy",
    "cooperative": "social_economy",
    "social_enterprise": "social_economy",
    "wise": "social_economy",
    "nonprofit_company": "social_economy",
    "mutual": "social_economy",
    "association": "civil_society",
    "foundation": "civil_society",
}

GROUPS: tuple[str, ...] = tuple(CUE_GROUPS)

FEATURE_NAMES: list[str] = (
    [f"{g}:{lab}" for g, labs in CUE_GROUPS.items() for lab in labs]
    + [f"{g}:total" for g in CUE_GROUPS]
    + ["cues:per_100_tokens", "cues:group_share"]
)
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}

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


# --- term lists -------------------------------------------------------------------


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
            stem = fold(re.split(_EXTRA_INFIX, tok[:-1])[-1])
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
    out: list[Term] = []
    for group, labels in groups.items():
        if group not in CUE_GROUPS:
            raise ValueError(f"resources/cues/{lang}.json: unknown group '{group}'")
        for label, terms in labels.items():
            if label not in CUE_GROUPS[group]:
                raise ValueError(
                    f"resources/cues/{lang}.json: unknown label '{label}' in group '{group}'; "
                    f"known: {', '.join(CUE_GROUPS[group])}"
                )
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


# --- matcher ----------------------------------------------------------------------


def _tokenizer(lang: str):
    import spacy
    from spacy.util import compile_infix_regex

    try:
        nlp = spacy.blank(lang)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank("xx")  # mt, bs and any language spaCy lacks
    infixes = list(nlp.Defaults.infixes or []) + [_EXTRA_INFIX]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # Hyphenated/apostrophe words that the language's exceptions keep whole still split.
    nlp.tokenizer.rules = {k: v for k, v in (nlp.tokenizer.rules or {}).items()
                           if not re.search(_EXTRA_INFIX, k)}
    return nlp


def _set_norms(doc) -> None:
    for tok in doc:
        tok.norm_ = fold(tok.text)


class _Matcher:
    """All terms of some cue files, compiled against one tokenizer."""

    def __init__(self, tok_lang: str, files: tuple[str, ...]) -> None:
        from spacy.matcher import PhraseMatcher

        self.nlp = _tokenizer(tok_lang)
        self.files = files
        vocab = self.nlp.vocab
        self.norm_matcher = PhraseMatcher(vocab, attr="NORM")
        self.orth_matcher = PhraseMatcher(vocab, attr="ORTH")
        self.keys: dict[int, tuple[str, str, str]] = {}
        # stem index: first-token key -> [(pattern, meta)], pattern = ((is_prefix, folded), ...)
        self.exact_first: dict[str, list[tuple[tuple[tuple[bool, str], ...], tuple[str, str, str]]]] = {}
        self.prefix_first: dict[str, list[tuple[tuple[tuple[bool, str], ...], tuple[str, str, str]]]] = {}
        self.max_stem = 0
        seen: set[tuple[str, str, str]] = set()
        for f in files:
            for term in load_terms(f):
                meta = (term.group, term.label, term.surface)
                if meta in seen:
                    continue
                seen.add(meta)
                if term.stemmed:
                    self._add_stemmed(term, meta)
                    continue
                key = "\t".join(meta)
                self.keys[vocab.strings.add(key)] = meta
                doc = self.nlp.make_doc(term.surface)
                if term.case_sensitive:
                    self.orth_matcher.add(key, [doc])
                else:
                    _set_norms(doc)
                    self.norm_matcher.add(key, [doc])

    def _add_stemmed(self, term: Term, meta: tuple[str, str, str]) -> None:
        pattern: list[tuple[bool, str]] = []
        for piece in term.surface.split():
            is_prefix = piece.endswith("*")
            word = piece[:-1] if is_prefix else piece
            toks = [fold(t.text) for t in self.nlp.make_doc(word)]
            # only the last sub-token of a word can carry the stem marker
            pattern.extend((False, t) for t in toks[:-1])
            pattern.append((is_prefix, toks[-1]))
        pat = tuple(pattern)
        first_prefix, first = pat[0]
        if first_prefix:
            self.prefix_first.setdefault(first, []).append((pat, meta))
            self.max_stem = max(self.max_stem, len(first))
        else:
            self.exact_first.setdefault(first, []).append((pat, meta))

    def _stem_matches(self, norms: list[str]):
        n = len(norms)
        for i, first in enumerate(norms):
            cands = list(self.exact_first.get(first, ()))
            for length in range(MIN_STEM_PHRASE, min(len(first), self.max_stem) + 1):
                cands.extend(self.prefix_first.get(first[:length], ()))
            for pat, meta in cands:
                if i + len(pat) > n:
                    continue
                ok = True
                for j, (is_prefix, value) in enumerate(pat[1:], start=1):
                    tok = norms[i + j]
                    if not (tok.startswith(value) if is_prefix else tok == value):
                        ok = False
                        break
                if ok:
                    yield meta, i, i + len(pat)

    def spans(self, text: str, base: int) -> list[Span]:
        doc = self.nlp.make_doc(text)
        _set_norms(doc)
        found: list[tuple[tuple[str, str, str], int, int]] = []
        for key, s, e in self.norm_matcher(doc):
            found.append((self.keys[key], s, e))
        for key, s, e in self.orth_matcher(doc):
            found.append((self.keys[key], s, e))
        found.extend(self._stem_matches([t.norm_ for t in doc]))
        out = []
        for (group, label, term), s, e in found:
            cs, ce = doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text)
            out.append(Span(cs + base, ce + base, text[cs:ce], "cue", group, label, term))
        return out


@lru_cache(maxsize=64)
def _matcher(files: tuple[str, ...]) -> _Matcher:
    own = [f for f in files if f not in ("en", "xx")]
    tok_lang = own[0] if len(own) == 1 else ("en" if not own else "xx")
    return _Matcher(tok_lang, files)


def _chunks(text: str, size: int = MAX_CHUNK_CHARS):
    """Cut long text at a line break (or space) so that no term is split."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut >= 0 else end
        yield start, text[start:end]
        start = end


# Helix actor words and legal forms compete for the same words ("social enterprise" is a
# legal form, not the business helix because of "enterprise").
_OVERLAP_DOMAIN = {"legal_form": "helix"}


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Within one group keep the longest of overlapping matches ("spółdzielnia socjalna"
    beats "spółdzielnia"); different groups may overlap."""
    out: list[Span] = []
    by_group: dict[str, list[Span]] = {}
    for sp in spans:
        by_group.setdefault(_OVERLAP_DOMAIN.get(sp.family, sp.family), []).append(sp)
    for group_spans in by_group.values():
        taken: list[tuple[int, int]] = []
        uniq = {(s.start, s.end, s.label): s for s in group_spans}
        for sp in sorted(uniq.values(), key=lambda s: (-(s.end - s.start), s.start, s.label)):
            if any(sp.start < e and s < sp.end for s, e in taken):
                continue
            taken.append((sp.start, sp.end))
            out.append(sp)
    out.sort(key=lambda s: (s.start, s.end, s.family, s.label))
    return out


def match(text: str, lang: str | None = None) -> list[Span]:
    """Cue spans in ``text`` (offsets into ``text``), for its language plus English and
    language-independent acronyms; all languages when ``lang`` is None, "und" or unknown."""
    if not text:
        return []
    m = _matcher(resolve_languages(lang))
    spans: list[Span] = []
    for base, piece in _chunks(text):
        spans.extend(m.spans(piece, base))
    return _resolve_overlaps(spans)


def cue_features(spans: list[Span], n_tokens: int | None = None) -> np.ndarray:
    """A fixed-length vector (``FEATURE_NAMES``): log1p counts per group:label and per
    group, cue density per 100 tokens (log1p) and the share of groups present.

    Legal forms also count towards the helix label they imply (``LEGAL_FORM_HELIX``).
    Spans of other kinds or unknown labels are ignored.
    """
    counts = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    n_cues = 0
    groups_seen: set[str] = set()
    for sp in spans:
        idx = _FEATURE_INDEX.get(f"{sp.family}:{sp.label}")
        if sp.kind != "cue" or idx is None:
            continue
        n_cues += 1
        groups_seen.add(sp.family)
        counts[idx] += 1
        counts[_FEATURE_INDEX[f"{sp.family}:total"]] += 1
        if sp.family == "legal_form" and sp.label in LEGAL_FORM_HELIX:
            counts[_FEATURE_INDEX[f"helix:{LEGAL_FORM_HELIX[sp.label]}"]] += 1
            counts[_FEATURE_INDEX["helix:total"]] += 1
            groups_seen.add("helix")
    vec = np.log1p(counts)
    if n_tokens and n_tokens > 0:
        vec[_FEATURE_INDEX["cues:per_100_tokens"]] = math.log1p(100.0 * n_cues / n_tokens)
    vec[_FEATURE_INDEX["cues:group_share"]] = len(groups_seen) / len(CUE_GROUPS)
    return vec.astype(np.float32)


# --- coverage -----------------------------------------------------------------------


def coverage_counts() -> dict[str, dict[str, int]]:
    """Number of terms per language file and group."""
    langs = list(available_languages()) + ["xx"]
    table: dict[str, dict[str, int]] = {}
    for lang in langs:
        row = {g: 0 for g in CUE_GROUPS}
        for t in load_terms(lang):
            row[t.group] += 1
        table[lang] = row
    return table


def coverage_table() -> str:
    """A markdown table: languages x cue groups, number of terms, and the gaps."""
    counts = coverage_counts()
    groups = list(CUE_GROUPS)
    lines = [
        "# Cue term coverage",
        "",
        "Generated by `python -m csei_nlp.pipeline.cues --coverage docs/cue_coverage.md`; "
        "do not edit by hand. Counts are terms per language file and cue group "
        "(a stemmed term such as `spółdzielni* socjaln*` counts once but matches every inflected form). "
        "`xx` holds language-independent acronyms.",
        "",
        "| lang | " + " | ".join(groups) + " | total | stemmed |",
        "|---" * (len(groups) + 3) + "|",
    ]
    gaps: list[str] = []
    for lang, row in counts.items():
        terms = load_terms(lang)
        n_stem = sum(t.stemmed for t in terms)
        lines.append(
            f"| {lang} | " + " | ".join(str(row[g]) for g in groups)
            + f" | {sum(row.values())} | {n_stem} |"
        )
        if lang != "xx":
            missing = [g for g in groups if row[g] == 0]
            if missing:
                gaps.append(f"- `{lang}`: no terms for {', '.join(missing)}")
    expected = [lang for lang in CUE_LANGUAGES if lang not in counts]
    lines.append("")
    lines.append("## Gaps")
    lines.append("")
    if expected:
        gaps.append(f"- no cue file for: {', '.join(expected)}")
    lines.extend(gaps or ["- none: every language has terms in every group."])
    labels_missing: list[str] = []
    for lang in counts:
        if lang == "xx":
            continue
        have = {(t.group, t.label) for t in load_terms(lang)}
        miss = [f"{g}:{lab}" for g, labs in CUE_GROUPS.items() for lab in labs if (g, lab) not in have]
        if miss:
            labels_missing.append(f"- `{lang}` ({len(miss)}): {', '.join(miss)}")
    if labels_missing:
        lines += ["", "## Labels without terms, per language", ""] + labels_missing
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Cue term utilities")
    ap.add_argument("--coverage", metavar="FILE", help="write the coverage table (markdown) to FILE")
    args = ap.parse_args(argv)
    table = coverage_table()
    if args.coverage:
        Path(args.coverage).write_text(table, "utf-8")
    else:
        print(table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
