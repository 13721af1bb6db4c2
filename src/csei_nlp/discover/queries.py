"""Multilingual search queries from the cue lists: where to look for CSEI, language by language.

Why: the crawler needs seed URLs, and a site in Lithuanian is found with
Lithuanian words typed into a search engine.  A query must therefore work as
typed: whole words in quoted phrases (engines do not expand an in-word ``*``),
one script per query (a Serbian query is Latin or Cyrillic, never both), and
specific enough to find clusters rather than any page with "cluster" on it.

Two kinds of query per language, from the language's own cue file:

designation            one quoted multi-word self-designation: a cue term
                       ("pôle territorial de coopération économique") or a
                       designation shared by organisations' names in the
                       annotations ("klaster ekonomii społecznej")
designation+qualifier  a quoted self-designation word ("klaster") with a quoted
                       social-economy legal form or actor ("spółdzielnia
                       socjalna", "podmioty ekonomii społecznej")

Stemmed cue terms become the whole words they take in the project's annotated
texts (:mod:`csei_nlp.discover.query_forms`).  Generic words are left out: the
cooperation words ("together"), acronyms, associations and foundations, and any
phrase that is one word shorter than four letters.  :func:`specificity` measures
on a list of URLs or titles which share each query matches (docs/discover.md).
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import ConfigError
from ..pipeline.cues import available_languages, fold, load_terms
from ..report.csvsafe import csv_text
from ..taxonomy import CEE_COUNTRIES, LANGUAGE_COUNTRIES
from .query_forms import MIN_WORD, load_forms, scripts, term_matches

DESIGNATIONS = ("cluster", "pole", "partnership", "network", "consortium", "alliance", "ecosystem",
                "platform", "local_action_group", "hub", "third_place")
# One of these words alone is too generic, even quoted ("hub", "platforma"); the others pair with a qualifier.
PAIRED = ("cluster", "pole", "partnership", "network", "consortium", "alliance", "ecosystem")
QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("legal_form", "social_cooperative"), ("helix", "social_economy"), ("legal_form", "social_enterprise"),
    ("legal_form", "wise"), ("legal_form", "cooperative"), ("legal_form", "nonprofit_company"))
PER_LABEL = 2  # phrases kept per cue label (the most frequent forms first)
FIELDS = ["lang", "cee", "countries", "kind", "query", "labels", "script"]


def cee_languages() -> tuple[str, ...]:
    """Languages with a cue list that are official in a CEE (EU or neighbourhood) country."""
    return tuple(l for l in available_languages()
                 if any(c in CEE_COUNTRIES for c in LANGUAGE_COUNTRIES.get(l, [])))


def usable(phrase: str) -> bool:
    """A phrase a search engine takes as typed: whole words, one script, not one short word."""
    words = phrase.split()
    return (bool(words) and "*" not in phrase and '"' not in phrase and len(scripts(phrase)) == 1
            and (len(words) > 1 or sum(ch.isalpha() for ch in phrase) >= MIN_WORD))


def _same_word(a: str, b: str) -> bool:
    """Two inflections of one phrase ("spółdzielnia socjalna", "spółdzielnie socjalne")."""
    wa, wb = fold(a).split(), fold(b).split()
    return len(wa) == len(wb) and all(x[:MIN_WORD] == y[:MIN_WORD] for x, y in zip(wa, wb))


def _phrases(lang: str) -> dict[tuple[str, str], list[str]]:
    """Usable phrases per (group, label): whole-word cue terms and the attested forms of stemmed ones,
    the most frequent first, at most ``PER_LABEL`` per label (one per inflected phrase)."""
    forms = load_forms().get(lang, {}).get("forms", {})
    scored: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for t in load_terms(lang):
        if t.case_sensitive:
            continue
        attested = forms.get(f"{t.group}/{t.label}/{t.surface}", [])
        if t.stemmed:
            cands = [(n, f) for f, n in attested[:1] if term_matches(f, t.surface)]
        else:
            cands = [(attested[0][1] if attested else 0, t.surface.lower())]
        scored.setdefault((t.group, t.label), []).extend(cands)
    out: dict[tuple[str, str], list[str]] = {}
    for key, items in scored.items():
        picked: list[str] = []
        for _, phrase in sorted(items, key=lambda x: (-x[0], x[1])):
            if usable(phrase) and not any(_same_word(phrase, p) for p in picked):
                picked.append(phrase)
            if len(picked) == PER_LABEL:
                break
        out[key] = picked
    return out


def _designations(lang: str, phrases: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    """(phrase, label) of the multi-word self-designations, cue terms first, then organisations' names."""
    out = [(p, label) for label in DESIGNATIONS for p in phrases.get(("self_designation", label), [])
           if len(p.split()) > 1]
    out += [(p, "name") for p, _ in load_forms().get(lang, {}).get("designations", [])]
    kept: dict[str, tuple[str, str]] = {}
    for phrase, label in out:
        if usable(phrase):
            kept.setdefault(fold(phrase), (phrase, label))
    return list(kept.values())


def _quote(phrase: str) -> str:
    return f'"{phrase}"'


def build_queries(langs: list[str] | None = None, max_per_lang: int = 40) -> Iterator[dict[str, Any]]:
    """Query rows for ``langs`` (default: every cue language, CEE languages first)."""
    have = available_languages()
    if langs:
        unknown = [l for l in langs if l not in have]
        if unknown:
            raise ConfigError(f"--lang: no cue list for {', '.join(unknown)}; available: {', '.join(have)}")
        order = list(dict.fromkeys(langs))
    else:
        cee = cee_languages()
        order = list(cee) + [l for l in have if l not in cee]
    for lang in order:
        yield from _language_queries(lang, max_per_lang)


def _language_queries(lang: str, cap: int) -> Iterator[dict[str, Any]]:
    phrases = _phrases(lang)
    base = {"lang": lang, "cee": lang in cee_languages(), "countries": LANGUAGE_COUNTRIES.get(lang, [])}
    rows: list[dict[str, Any]] = []
    for phrase, label in _designations(lang, phrases):
        rows.append({**base, "kind": "designation", "query": _quote(phrase),
                     "labels": [f"self_designation:{label}"], "script": scripts(phrase).pop()})
    # the best designation word of each label (in each script) with each qualifier, the likeliest pairs first
    words: list[tuple[str, str]] = []
    for label in PAIRED:
        best: dict[str, str] = {}
        for w in phrases.get(("self_designation", label), []):
            if len(w.split()) == 1:
                best.setdefault(scripts(w).pop(), w)
        words += [(w, label) for w in best.values()]
    quals = [(p, g, l) for g, l in QUALIFIERS for p in phrases.get((g, l), [])]
    pairs = sorted(((i + j, i, w, lw, q, g, lq) for i, (w, lw) in enumerate(words)
                    for j, (q, g, lq) in enumerate(quals) if scripts(w) == scripts(q)), key=lambda x: x[:2])
    for _, _, w, lw, q, g, lq in pairs:
        rows.append({**base, "kind": "designation+qualifier", "query": f"{_quote(w)} {_quote(q)}",
                     "labels": [f"self_designation:{lw}", f"{g}:{lq}"], "script": scripts(w).pop()})
    seen: set[str] = set()
    n = 0
    for r in rows:
        if n < cap and r["query"] not in seen:
            seen.add(r["query"])
            n += 1
            yield r


def export(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt != "csv":
        raise ConfigError(f"--format: expected csv or jsonl, got {fmt!r}")
    return csv_text(({**r, "cee": int(r["cee"]), "countries": " ".join(r["countries"]),
                      "labels": " ".join(r["labels"])} for r in rows), FIELDS)


# --- how specific a query is: the share of a list of URLs or titles it matches ----------------------

_QUERY_PART = re.compile(r'"([^"]+)"|(\S+)')
_NON_WORD = re.compile(r"[\W_]+")


def _phrase_words(phrase: str) -> list[str]:
    """Folded words of a phrase, split as texts are ("d'economia" -> "d", "economia"); ``stem*`` keeps its star."""
    out: list[str] = []
    for tok in fold(phrase).split():
        pieces = [w for w in _NON_WORD.split(tok) if w]
        if tok.endswith("*") and pieces:
            pieces[-1] += "*"
        out += pieces
    return out


def query_phrases(query: str) -> list[list[str]]:
    """A query as its phrases of folded words (``"a b" c*`` -> [["a", "b"], ["c*"]])."""
    return [p for p in (_phrase_words(q or w) for q, w in _QUERY_PART.findall(query)) if p]


def _text_words(text: str) -> tuple[list[str], list[str], str]:
    words = [w for w in _NON_WORD.split(fold(text)) if w]
    return words, sorted(set(words)), "".join(words)


def _has_word(vocab: list[str], word: str) -> bool:
    """Whether the sorted ``vocab`` holds ``word`` (``stem*``: a word starting with the stem)."""
    stem = word[:-1] if word.endswith("*") else word
    i = bisect_left(vocab, stem)
    return i < len(vocab) and (vocab[i].startswith(stem) if word.endswith("*") else vocab[i] == stem)


def _phrase_in(phrase: list[str], text: tuple[list[str], list[str], str]) -> bool:
    words, vocab, joined = text
    n = len(phrase)
    if all(_has_word(vocab, p) for p in phrase):
        for i in range(len(words) - n + 1):
            if all(words[i + j].startswith(p[:-1]) if p.endswith("*") else words[i + j] == p
                   for j, p in enumerate(phrase)):
                return True
    # URLs write phrases without spaces ("klaster-ekonomii-spolecznej", "klasterspoleczny.pl")
    return n > 1 and not any(p.endswith("*") for p in phrase) and "".join(phrase) in joined


def query_matches(query: str, text: str) -> bool:
    """Whether every phrase of ``query`` occurs in ``text`` (a URL, a title or a page), as whole words
    (``stem*`` as a word prefix), or a multi-word phrase written without spaces."""
    prepared = _text_words(text)
    return all(_phrase_in(p, prepared) for p in query_phrases(query))


def match_table(queries: Iterable[str], texts: list[str], *, require_all: bool = True) -> dict[str, list[int]]:
    """For each query, the indices of the ``texts`` it matches (:func:`query_matches`); with
    ``require_all=False`` a text matches when any one phrase of the query occurs in it (how a URL
    filter such as ``url_contains`` uses the terms)."""
    prepared = [_text_words(t) for t in texts]
    test = all if require_all else any
    out: dict[str, list[int]] = {}
    for q in queries:
        parts = query_phrases(q)
        out[q] = [i for i, t in enumerate(prepared) if test(_phrase_in(p, t) for p in parts)]
    return out


def specificity(queries: Iterable[str], texts: list[str], *, require_all: bool = True) -> dict[str, float]:
    """For each query, the share of ``texts`` (URLs or titles) it matches: lower is more specific."""
    table = match_table(queries, texts, require_all=require_all)
    return {q: len(hits) / len(texts) if texts else 0.0 for q, hits in table.items()}
