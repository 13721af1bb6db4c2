"""Cue matching: text -> evidence spans with character offsets.

Why its own module: building the matchers needs spaCy and is cached per set of
cue files; everything else about cues (term files, features, coverage) works
without it.  Exact terms go through a spaCy ``PhraseMatcher`` on ``NORM`` (the
folded form is written into ``token.norm_``), stemmed terms through a
token-prefix index; overlapping matches within a group keep the longest.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ...types import Span
from .terms import EXTRA_INFIX, MIN_STEM_PHRASE, Term, fold, load_terms, resolve_languages

MAX_CHUNK_CHARS = 200_000  # texts are tokenized in pieces of at most this size


def _tokenizer(lang: str):
    import spacy
    from spacy.util import compile_infix_regex

    try:
        nlp = spacy.blank(lang)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank("xx")  # mt, bs and any language spaCy lacks
    infixes = list(nlp.Defaults.infixes or []) + [EXTRA_INFIX]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # Hyphenated/apostrophe words that the language's exceptions keep whole still split.
    nlp.tokenizer.rules = {k: v for k, v in (nlp.tokenizer.rules or {}).items()
                           if not re.search(EXTRA_INFIX, k)}
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


def _chunks(text: str, size: int | None = None):
    """Cut long text at a line break (or space) so that no term is split."""
    size = size or MAX_CHUNK_CHARS
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
