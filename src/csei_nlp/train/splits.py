"""Deterministic train/dev/test split by source document, never by passage.

Passages of one document share wording and facts; splitting them across train
and test would measure memory, not generalisation.  The unit is the *group*:
a document (``doc:<doc_id>``); for the dev pages, the organisation's site, so
both pages of one organisation land together; and for near-translations
annotated with a ``group`` (one scenario written in several languages), the
scenario (``grp:<group>``), so a multilingual model never meets a translation
of a test document in training.

Per language, groups are ordered by (is_csei, kind, a seeded hash) and dealt
out along a repeating train/dev/train/test/train pattern that starts at a
seeded offset: every language gets ~60/20/20, and positives, hard negatives
and other kinds are spread over the three splits.
A language with >= 3 groups always has one in test, one with >= 4 one in dev.
Groups whose documents span several languages are dealt out the same way in
a stratum of their own (``MULTILINGUAL``) rather than under one of their
languages: filed under, say, their alphabetically first language they would
crowd that language's deal and move several languages' documents at once.
Explicit ``split`` values in the annotations win.  Changing the seed or adding
groups to a language reshuffles that language only.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

from .data import SPLITS, AnnotationError, DocRecord, PassageRecord, is_cee_lang

SEED = "csei-split-v1"
# 60/20/20, interleaved so that consecutive groups (same stratum) go to different splits.
PATTERN = ("train", "dev", "train", "test", "train")
MULTILINGUAL = "*multilingual"


def _unit(*parts: str) -> float:
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def assign_splits(docs: list[DocRecord], seed: str = SEED, min_cee_test_langs: int = 0) -> dict[str, str]:
    """Map every group to ``train``, ``dev`` or ``test``.

    Raises AnnotationError if the test split covers fewer than
    ``min_cee_test_langs`` CEE languages.
    """
    groups: dict[str, list[DocRecord]] = defaultdict(list)
    for d in docs:
        groups[d.group].append(d)
    out: dict[str, str] = {}
    by_lang: dict[str, list[tuple[int, str, float, str]]] = defaultdict(list)
    for g, ds in groups.items():
        hints = {d.split_hint for d in ds if d.split_hint}
        if len(hints) > 1:
            raise AnnotationError(f"group {g} has documents with different explicit splits {sorted(hints)}")
        if hints:
            out[g] = hints.pop()
            continue
        langs = {d.stratum for d in ds}
        lang = langs.pop() if len(langs) == 1 else MULTILINGUAL
        by_lang[lang].append((-max(d.is_csei for d in ds), min(d.kind for d in ds), _unit(seed, g), g))
    for lang, items in by_lang.items():
        items.sort()
        n = len(items)
        offset = int(_unit(seed, "lang", lang) * len(PATTERN))
        split = [PATTERN[(k + offset) % len(PATTERN)] for k in range(n)]
        # Small languages: make sure test (n >= 3) and dev (n >= 4) are not empty, taking
        # the train group with the highest hash.
        for need, min_n in (("test", 3), ("dev", 4)):
            if n >= min_n and need not in split:
                cand = [k for k in range(n) if split[k] == "train"]
                if cand:
                    split[max(cand, key=lambda k: items[k][2])] = need
        for k, item in enumerate(items):
            out[item[3]] = split[k]
    if min_cee_test_langs:
        langs = cee_languages_in(docs, out, "test")
        if len(langs) < min_cee_test_langs:
            raise AnnotationError(
                f"the test split covers {len(langs)} CEE languages ({', '.join(sorted(langs)) or 'none'}); "
                f"at least {min_cee_test_langs} are required: annotate more CEE documents"
            )
    return out


def cee_languages_in(docs: list[DocRecord], splits: dict[str, str], split: str) -> set[str]:
    return {d.lang for d in docs if splits[d.group] == split and is_cee_lang(d.lang)}


def passage_split(passages: list[PassageRecord], splits: dict[str, str]) -> dict[str, list[int]]:
    """Indices of passages per split.

    A passage follows its document's group.  A passage whose document is not a
    training document (the app's passages of a page nobody labelled as a
    whole) keeps its own explicit split, ``train`` for everything the app writes.
    """
    out: dict[str, list[int]] = {s: [] for s in SPLITS}
    for i, p in enumerate(passages):
        split = splits.get(p.split_group) or p.split
        if split is None:
            raise AnnotationError(f"{p.where}: passage {p.id!r} belongs to no document group and has no split")
        out[split].append(i)
    return out


def doc_split(docs: list[DocRecord], splits: dict[str, str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {s: [] for s in SPLITS}
    for i, d in enumerate(docs):
        out[splits[d.group]].append(i)
    return out
