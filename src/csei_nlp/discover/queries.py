"""Multilingual search queries from the cue lists: where to look for CSEI, language by language.

Why: the crawler needs seed URLs, and a site in Lithuanian is found with
Lithuanian words.  The cue lists already hold, per language, the legal forms
("spółdzielnia socjalna"), the self-designations ("klaster", "partnerstvo") and
the cooperation words; a query pairs a self-designation with a legal form or a
cooperation word, quoted, so that any web search engine (or a crawler's search
step) can use it.  Every row states its language, whether that language is
spoken in a CEE country, and which cue labels it came from.

Stemmed cue terms (``klaszter*``) are written as the stem followed by ``*``
only when a label has no whole-word term; case-sensitive acronyms lose their
``=`` marker.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError
from ..pipeline.cues import available_languages, fold, load_terms
from ..report.csvsafe import csv_text
from ..taxonomy import CEE_COUNTRIES, LANGUAGE_COUNTRIES

PAIRS: tuple[tuple[str, str], ...] = (("self_designation", "legal_form"), ("self_designation", "cooperation"),
                                      ("legal_form", "cooperation"))
PER_LABEL = 2  # phrases kept per cue label (the first ones in the list: the most common forms)


def cee_languages() -> tuple[str, ...]:
    """Languages with a cue list that are official in a CEE (EU or neighbourhood) country."""
    return tuple(l for l in available_languages()
                 if any(c in CEE_COUNTRIES for c in LANGUAGE_COUNTRIES.get(l, [])))


def _phrases(lang: str, group: str) -> list[tuple[str, str, bool]]:
    """(phrase, label, is_wildcard) for one cue group of one language."""
    by_label: dict[str, list[tuple[str, bool]]] = {}
    for t in load_terms(lang):
        if t.group != group:
            continue
        if t.stemmed:
            text, wild = " ".join(w for w in t.surface.split()), True
        else:
            text, wild = t.surface, False
        by_label.setdefault(t.label, []).append((text, wild))
    out: list[tuple[str, str, bool]] = []
    for label, items in by_label.items():
        whole = [x for x in items if not x[1]]
        picked: list[tuple[str, bool]] = []
        for text, wild in whole or items:
            # "partner" and "partnera" are one query's worth: skip inflections of a picked phrase
            if any(fold(text)[:5] == fold(p)[:5] for p, _ in picked):
                continue
            picked.append((text, wild))
            if len(picked) == PER_LABEL:
                break
        out.extend((text, label, wild) for text, wild in picked)
    return out


def _quote(phrase: str) -> str:
    """Whole-word phrases are quoted; a stemmed one stays unquoted (``spółdzielni* socjaln*``),
    since engines that expand ``*`` do not do so inside quotes."""
    return phrase if "*" in phrase else f'"{phrase}"'


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
        cee = lang in cee_languages()
        groups = {g: _phrases(lang, g) for g in ("self_designation", "legal_form", "cooperation")}
        n = 0
        seen: set[str] = set()
        # round-robin over the pairs so that a cap keeps a mix of query kinds
        combos = [[(ga, a, gb, b) for a in groups[ga] for b in groups[gb] if a[0] != b[0]] for ga, gb in PAIRS]
        for i in range(max(map(len, combos), default=0)):
            for combo in combos:
                if i >= len(combo) or n >= max_per_lang:
                    continue
                ga, a, gb, b = combo[i]
                q = f"{_quote(a[0])} {_quote(b[0])}"
                if q in seen:
                    continue
                seen.add(q)
                n += 1
                yield {"lang": lang, "cee": cee, "countries": LANGUAGE_COUNTRIES.get(lang, []),
                       "query": q, "kind": f"{ga}+{gb}", "labels": [f"{ga}:{a[1]}", f"{gb}:{b[1]}"],
                       "wildcard": a[2] or b[2]}


def export(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt != "csv":
        raise ConfigError(f"--format: expected csv or jsonl, got {fmt!r}")
    return csv_text(({**r, "cee": int(r["cee"]), "countries": " ".join(r["countries"]),
                      "labels": " ".join(r["labels"]), "wildcard": int(r["wildcard"])} for r in rows),
                    ["lang", "cee", "countries", "kind", "query", "labels", "wildcard"])
