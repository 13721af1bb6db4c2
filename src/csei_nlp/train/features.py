"""Feature matrices for training and evaluation, built exactly as the pipeline builds them.

Passage features are ``[embedding, cues.cue_features]`` and document features
come from :func:`csei_nlp.pipeline.classify.document_features`, the same code
the scanner calls, so training and inference cannot drift apart.  Vectors go
through :class:`CachedEmbedder`, so a second training run embeds nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..pipeline.embed import CachedEmbedder, Embedder, get_embedder
from ..config import Config
from ..taxonomy import FAMILIES
from .data import DocRecord, PassageRecord

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    from ..paths import project_root

    return project_root() / ".cache" / "embeddings"


def make_embedder(cfg: Config, cache_dir: str | Path | None = None,
                  annotations_dir: str | Path | None = None) -> CachedEmbedder:
    """The configured embedder behind the training cache; with ``annotations_dir``, its shipped
    vectors (``ANNOTATIONS/vectors``, :mod:`csei_nlp.pipeline.embed.seed`) are read before embedding."""
    from ..pipeline.embed.seed import SEED_FOLDER

    seeds = [Path(annotations_dir) / SEED_FOLDER] if annotations_dir is not None else []
    return CachedEmbedder(get_embedder(cfg), cache_dir or default_cache_dir(), seeds)


def cue_feature_names() -> list[str]:
    """The cue feature names, or [] when the cue module is not available."""
    try:
        from ..pipeline import cues
    except ImportError:
        log.warning("csei_nlp.pipeline.cues is not available: training without cue features")
        return []
    return list(cues.FEATURE_NAMES)


def _n_tokens(text: str) -> int:
    return max(1, len(text.split()))


def cue_rows(texts: Sequence[str], langs: Sequence[str], names: list[str]) -> tuple[np.ndarray, list[list[Any]]]:
    """(n, len(names)) cue features per text, plus the spans (for document sums)."""
    if not names:
        return np.zeros((len(texts), 0), np.float32), [[] for _ in texts]
    from ..pipeline import cues

    spans = [cues.match(t, lang) for t, lang in zip(texts, langs)]
    rows = [cues.cue_features(s, _n_tokens(t)) for s, t in zip(spans, texts)]
    return (np.vstack(rows).astype(np.float32) if rows else np.zeros((0, len(names)), np.float32)), spans


def doc_cues(spans: list[list[Any]], texts: Sequence[str], names: list[str]) -> np.ndarray | None:
    if not names:
        return None
    from ..pipeline import cues

    flat = [s for ss in spans for s in ss]
    return cues.cue_features(flat, sum(_n_tokens(t) for t in texts))


def label_matrix(passages: Sequence[PassageRecord], family: str) -> np.ndarray:
    labels = FAMILIES[family]
    Y = np.zeros((len(passages), len(labels)), dtype=np.int8)
    for i, p in enumerate(passages):
        for lab in p.labels.get(family, []):
            Y[i, labels.index(lab)] = 1
    return Y


@dataclass(slots=True)
class PassageFeatures:
    vectors: np.ndarray  # (n, dim)
    cues: np.ndarray  # (n, k)
    spans: list[list[Any]]

    @property
    def X(self) -> np.ndarray:
        return np.hstack([self.vectors, self.cues]).astype(np.float32)


def passage_features(embedder: Embedder, passages: Sequence[PassageRecord], names: list[str]) -> PassageFeatures:
    texts = [p.text for p in passages]
    vecs = embedder.embed_passages(texts)
    cue, spans = cue_rows(texts, [p.lang for p in passages], names)
    return PassageFeatures(vecs, cue, spans)


@dataclass(slots=True)
class DocInputs:
    """Per document: passage vectors, passage cue rows and the document cue vector."""

    vectors: list[np.ndarray]
    cues: list[np.ndarray]
    doc_cues: list[np.ndarray | None]


def doc_inputs(embedder: Embedder, docs: Sequence[DocRecord], names: list[str],
               known: dict[str, tuple[np.ndarray, np.ndarray, list[Any]]] | None = None) -> DocInputs:
    """Embed every document's passages in one batch (cache hits are free).

    ``known`` maps a passage text to (vector, cue row, spans) already computed.
    """
    known = known or {}
    todo_texts, todo_langs = [], []
    for d in docs:
        for t in d.passages:
            if t not in known:
                todo_texts.append(t)
                todo_langs.append(d.lang)
    if todo_texts:
        uniq = list(dict.fromkeys(todo_texts))
        lang_of = dict(zip(todo_texts, todo_langs))
        vecs = embedder.embed_passages(uniq)
        cue, spans = cue_rows(uniq, [lang_of[t] for t in uniq], names)
        known = {**known, **{t: (vecs[i], cue[i], spans[i]) for i, t in enumerate(uniq)}}
    out = DocInputs([], [], [])
    for d in docs:
        rows = [known[t] for t in d.passages]
        dim = embedder.dim
        out.vectors.append(np.vstack([r[0] for r in rows]) if rows else np.zeros((0, dim), np.float32))
        out.cues.append(np.vstack([r[1] for r in rows]) if rows else np.zeros((0, len(names)), np.float32))
        out.doc_cues.append(doc_cues([r[2] for r in rows], d.passages, names))
    return out
