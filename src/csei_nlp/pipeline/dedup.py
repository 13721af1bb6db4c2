"""Duplicate labelling: exact copies and near copies of earlier documents.

A crawl holds the same text many times: http and https, print views, mirrors,
the same report as PDF and HTML, and pages that differ only in a footer, a
date or a cookie line.  Counted twice, such a page inflates an organisation's
evidence, so the aggregation step needs to know which documents repeat which.

:class:`Deduplicator` is fed documents one at a time, in the run's order, and
only labels them -- nothing is dropped:

``dup_of``          the id of the first document with the same normalised text
                    (Unicode NFKC, case-folded, whitespace collapsed).
``near_dup_group``  the id of the first document of a group of near copies:
                    estimated Jaccard similarity of word ``shingle``-grams at or
                    above ``[dedup] threshold`` (MinHash with ``num_perm``
                    permutations, fixed seed, so the same input in the same order
                    gives the same labels; LSH bands favour recall, and every
                    candidate's estimated similarity is checked).  An exact copy joins its
                    original's group.

Labels are decided when a document arrives, and earlier labels never change:
the first document of a group got no group label when it was added;
:meth:`Deduplicator.groups` gives the final membership, first documents
included.  A document that resembles two existing groups joins the older one;
groups are not merged.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config

SEED = 1  # MinHash permutations; fixed so that labels are repeatable across runs
_WORD_RE = re.compile(r"\w+")


@dataclass(slots=True)
class DupResult:
    dup_of: str | None = None
    near_dup_group: str | None = None


def normalise(text: str) -> str:
    """The text compared for exact duplicates: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def shingles(text: str, n: int) -> set[str]:
    """Word ``n``-grams of the normalised text (punctuation ignored); one shingle if shorter."""
    words = _WORD_RE.findall(normalise(text))
    if len(words) <= n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


class Deduplicator:
    """Labels exact and near duplicates among documents added one at a time."""

    def __init__(self, cfg: Config) -> None:
        dc = cfg.dedup  # ranges checked by config.load
        self.num_perm = dc.num_perm
        self.threshold = dc.threshold
        self.shingle = dc.shingle
        from datasketch import MinHash, MinHashLSH

        self._MinHash = MinHash
        # Bands tuned for recall (datasketch's default weighs misses and false
        # candidates equally and finds only ~40% of pairs right at the threshold):
        # every candidate is checked against its stored signature below.
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm, weights=(0.05, 0.95))
        self._exact: dict[str, str] = {}  # normalised-text hash -> first doc id
        self._signature: dict[str, np.ndarray] = {}  # doc id -> MinHash values (uint32)
        self._order: dict[str, int] = {}  # doc id -> arrival number
        self._group: dict[str, str] = {}  # doc id -> group id (first member's id)
        self._results: dict[str, DupResult] = {}

    def __len__(self) -> int:
        return len(self._results)

    def add(self, doc_id: str, text: str) -> DupResult:
        """Label ``doc_id`` against every document added before it.

        Text without any word gets no label.  Adding the same id again returns
        its first result.
        """
        if doc_id in self._results:
            return self._results[doc_id]
        self._order[doc_id] = len(self._order)
        result = DupResult()
        norm = normalise(text)
        if not _WORD_RE.search(norm):
            self._results[doc_id] = result
            return result
        key = hashlib.sha256(norm.encode("utf-8")).hexdigest()
        first = self._exact.get(key)
        if first is not None:
            result.dup_of = first
            result.near_dup_group = self._join(first, doc_id)
        else:
            self._exact[key] = doc_id
            mh = self._minhash(text)
            sig = mh.hashvalues.astype(np.uint32)
            best: str | None = None
            for cand in self._lsh.query(mh):
                # LSH candidates are only likely matches: check the estimate.
                if float(np.mean(self._signature[cand] == sig)) < self.threshold:
                    continue
                group = self._group.get(cand, cand)
                if best is None or self._order[group] < self._order[best]:
                    best = group
            if best is not None:
                result.near_dup_group = self._join(best, doc_id)
            self._lsh.insert(doc_id, mh)
            self._signature[doc_id] = sig
        self._results[doc_id] = result
        return result

    def _join(self, member: str, doc_id: str) -> str:
        group = self._group.setdefault(member, member)
        self._group[doc_id] = group
        return group

    def _minhash(self, text: str) -> Any:
        mh = self._MinHash(num_perm=self.num_perm, seed=SEED)
        mh.update_batch([s.encode("utf-8") for s in sorted(shingles(text, self.shingle))])
        return mh

    def groups(self) -> dict[str, str]:
        """Every document in a group of two or more -> the group id, first members included."""
        return dict(self._group)
