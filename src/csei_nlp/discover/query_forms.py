"""Whole words for search queries: the forms that the cue terms take in the project's own texts.

Why: a cue term such as ``spółdzielni* socjaln*`` is a stem pattern for the
matcher, but a search engine needs words (``"spółdzielnia socjalna"``): in-word
``*`` is not supported by the engines people use, and a stem alone is not a
word.  Rather than writing word forms by hand, we read them off the annotated
texts in ``annotations/`` (passages and pages in every cue language): each cue
match of a self-designation, a legal form or a social-economy actor records its
surface form.  Organisation names in those annotations give the multi-word
self-designations ("klaster ekonomii społecznej", "distretto di economia
solidale"): the word runs around a cue self-designation that at least two
organisations' names share (a run only one name uses is usually a place name),
beginning and ending with a word of four letters or more that is not one of
spaCy's stop words for the language ("red de" is not a designation).

The result is ``resources/query_forms.json``, shipped with the package and
rebuilt after the cue files or annotations change::

    python -m csei_nlp.discover.query_forms annotations   # rewrites the resource

Only terms of the language's own cue file count (the matcher also applies
English and the acronym file), and acronyms (``=LGD``) are left out: alone they
are ambiguous in a search engine.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..pipeline.cues import available_languages, fold, load_terms

RESOURCE = "query_forms.json"
GROUPS = ("self_designation", "legal_form", "helix")
HELIX_LABELS = ("social_economy",)  # of the helix, only the social-economy actors are specific enough
FORMS_KEPT = 3  # forms kept per term, the most frequent first
MIN_WORD = 4  # a word standing alone, or at either end of a designation, has at least this many letters
MIN_ORGS = 2  # a multi-word designation must appear in the names of at least this many organisations
WORD = re.compile(r"\w+(?:['’-]\w+)*")


@lru_cache(maxsize=None)
def _own_terms(lang: str) -> frozenset[tuple[str, str, str]]:
    """(group, label, term) of the language's own cue file that queries may use."""
    return frozenset((t.group, t.label, t.surface) for t in load_terms(lang)
                     if not t.case_sensitive and t.group in GROUPS
                     and (t.group != "helix" or t.label in HELIX_LABELS))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def build_forms(records: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """``records`` of (lang, text, organisation name or "") -> the resource's content.

    ``{lang: {"forms": {"group/label/term": [[form, count], ...]}, "designations": [[phrase, n_orgs], ...]}}``
    """
    from ..pipeline.cues import match

    have = set(available_languages())
    forms: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    names: dict[str, set[str]] = defaultdict(set)
    for lang, text, name in records:
        if lang not in have:
            continue
        own = _own_terms(lang)
        for sp in match(text, lang):
            if (sp.family, sp.label, sp.term) in own:
                forms[lang][f"{sp.family}/{sp.label}/{sp.term}"][_norm(sp.text)] += 1
        if name:
            names[lang].add(name)
    if "sr" in forms:
        _add_serbian_cyrillic(forms["sr"])
    out: dict[str, Any] = {}
    for lang in sorted(set(forms) | set(names)):
        kept = {k: sorted(c.items(), key=lambda x: (-x[1], len(x[0]), x[0]))[:FORMS_KEPT]
                for k, c in sorted(forms[lang].items())}
        out[lang] = {"forms": {k: [list(x) for x in v] for k, v in kept.items()},
                     "designations": _designations(lang, sorted(names[lang]))}
    return out


# Serbian is written in both scripts, letter for letter (lj, nj, dž are one Cyrillic letter each).
_SR_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ"}
_SR_LETTERS = dict(zip("abvgdđežzijklmnoprstćufhcčš", "абвгдђежзијклмнопрстћуфхцчш"))


def to_serbian_cyrillic(text: str) -> str:
    """Serbian Latin -> Cyrillic (lowercase text)."""
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _SR_DIGRAPHS:
            out.append(_SR_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_SR_LETTERS.get(text[i], text[i]))
        i += 1
    return "".join(out)


def _add_serbian_cyrillic(forms: dict[str, Counter]) -> None:
    """A Cyrillic Serbian term that no annotated text uses takes the transliterated forms of its Latin twin
    (same group and label), so that Serbian queries exist in both scripts, each in one."""
    latin = defaultdict(Counter)
    for key, c in forms.items():
        group, label, _ = key.split("/", 2)
        latin[(group, label)].update({f: n for f, n in c.items() if scripts(f) == {"LATIN"}})
    for t in load_terms("sr"):
        key = f"{t.group}/{t.label}/{t.surface}"
        if not t.stemmed or key in forms or (t.group, t.label, t.surface) not in _own_terms("sr"):
            continue
        derived = Counter({to_serbian_cyrillic(f): n for f, n in latin[(t.group, t.label)].items()})
        derived = Counter({f: n for f, n in derived.items() if term_matches(f, t.surface)})
        if derived:
            forms[key] = derived


def scripts(text: str) -> set[str]:
    """The scripts of the letters of ``text`` (LATIN, CYRILLIC, GREEK ...), from their Unicode names."""
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in text if ch.isalpha()}


def _designations(lang: str, names: list[str]) -> list[list[Any]]:
    """Word runs (two words or more) around a cue self-designation, shared by ``MIN_ORGS`` organisation names."""
    from ..pipeline.cues import match

    own = {(g, l, s) for g, l, s in _own_terms(lang) if g == "self_designation"}
    orgs: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for part in re.split(r"[\"„”“«»()\[\]–—,:;|/]| - ", name):  # a name's parts: quoted names, subtitles
            words = [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(part)]
            for sp in match(part, lang):
                if (sp.family, sp.label, sp.term) not in own:
                    continue
                idx = [i for i, (s, e, _) in enumerate(words) if s < sp.end and sp.start < e]
                if not idx:
                    continue
                first, last = idx[0], idx[-1]
                for a in range(0, first + 1):
                    for b in range(last + 1, len(words) + 1):
                        if b - a >= 2:
                            orgs[" ".join(w for _, _, w in words[a:b])].add(name)
    stop = _stop_words(lang)
    shared = {p: len(o) for p, o in orgs.items() if len(o) >= MIN_ORGS and _content_edges(p, stop)}
    # keep a run unless a longer one containing it is shared by as many organisations
    keep = [p for p, n in shared.items()
            if not any(q != p and f" {p} " in f" {q} " and m >= n for q, m in shared.items())]
    return [[p, shared[p]] for p in sorted(keep, key=lambda p: (-shared[p], p))]


def _stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words of ``lang`` (none for a language spaCy lacks)."""
    from spacy.util import get_lang_class

    try:
        return frozenset(get_lang_class(lang).Defaults.stop_words)
    except (ImportError, KeyError, ValueError, AttributeError):
        return frozenset()


def _content_edges(phrase: str, stop: frozenset[str]) -> bool:
    """A run starts and ends with a content word of 4 letters or more ("klaster ekonomii
    społecznej", not "red de" nor "distretto di economia solidale della")."""
    words = phrase.split()
    return all(len(w) >= MIN_WORD and w not in stop for w in (words[0], words[-1]))


@lru_cache(maxsize=1)
def load_forms() -> dict[str, Any]:
    """The shipped resource (``{}`` for a language without annotated texts)."""
    path = resources.files("csei_nlp").joinpath("resources", RESOURCE)
    return json.loads(path.read_text("utf-8"))


def term_matches(form: str, term: str) -> bool:
    """Whether ``form`` is a whole-word form of the cue ``term`` (a ``*`` word is a prefix)."""
    words, pattern = fold(form).split(), fold(term).split()
    return len(words) == len(pattern) and all(
        w.startswith(p[:-1]) if p.endswith("*") else w == p for w, p in zip(words, pattern))


def annotation_records(folder: Path) -> Iterable[tuple[str, str, str]]:
    """(lang, text, organisation name) of every passage and page of an ``annotations/`` folder.

    Pages listed without their text (``pages/labels.jsonl``, ``published/pages.jsonl``) give names only."""
    for f in sorted([*folder.glob("passages/*.jsonl"), *folder.glob("webpages/*.jsonl"),
                     *folder.glob("pages/labels.jsonl"), *folder.glob("published/pages.jsonl")]):
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                name = (d.get("about") or {}).get("name") or d.get("org") or ""
                yield d.get("lang") or "", d.get("text") or "", name


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m csei_nlp.discover.query_forms ANNOTATIONS_DIR", file=sys.stderr)
        return 2
    data = build_forms(annotation_records(Path(args[0])))
    target = Path(str(resources.files("csei_nlp").joinpath("resources", RESOURCE)))
    atomic_write_text(target, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    n = sum(len(v["forms"]) for v in data.values()), sum(len(v["designations"]) for v in data.values())
    print(f"{target}: {n[0]} terms with forms, {n[1]} designations, {len(data)} languages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
