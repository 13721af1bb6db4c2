"""An on-disk vector cache, so that no text is ever embedded twice.

Embedding is the slow step (a few passages per second on a laptop CPU), and
crawls overlap heavily between runs.  Vectors are keyed by the embedder id and
the sha256 of the exact text the model sees (prefix included), and stored as
float32 BLOBs in SQLite in WAL mode: several processes may read and append at
once, a crash loses at most the last uncommitted batch, and nothing is held in
memory beyond the batch being looked up.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...store.embeddings import VectorTable
from .base import Embedder


class CachedEmbedder(Embedder):
    """Wraps an embedder; looks every text up in ``cache_dir/vectors.sqlite`` first.

    ``seeds`` are folders of read-only seed files (:mod:`.seed`, the vectors
    shipped with the annotations): a text missing from the cache is looked up
    there before it is embedded, and copied into the cache.  ``hits`` and
    ``misses`` count texts served from the cache or a seed, and texts sent to
    the inner embedder.
    """

    def __init__(self, embedder: Embedder, cache_dir: str | Path,
                 seeds: Sequence[str | Path] = ()) -> None:
        super().__init__()
        self.inner = embedder
        self.id, self.dim, self.max_tokens = embedder.id, embedder.dim, embedder.max_tokens
        self.passage_prefix, self.query_prefix = embedder.passage_prefix, embedder.query_prefix
        self.path = Path(cache_dir) / "vectors.sqlite"
        try:
            self._table = VectorTable(self.path, timeout=60.0)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the embedding cache at {self.path}: {exc}") from exc
        from .seed import SeedVectors, seed_path

        self._seeds = [SeedVectors(seed_path(d, self.id), self.id, self.dim) for d in seeds]
        self.hits = 0
        self.misses = 0
        self.seed_hits = 0

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return self.inner.count_tokens(text, is_query)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover - unused
        return self.inner._encode(texts, is_query)

    def key(self, text: str, is_query: bool = False) -> str:
        prefix = self.query_prefix if is_query else self.passage_prefix
        return hashlib.sha256((prefix + text).encode("utf-8")).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for key, dim, blob in self._table.lookup(self.id, list(dict.fromkeys(keys))):
            if dim == self.dim:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def contains(self, texts: Sequence[str], is_query: bool = False) -> list[bool]:
        keys = [self.key(t, is_query) for t in texts]
        found = self._lookup(keys)
        return [k in found for k in keys]

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        keys = [self.key(t, is_query) for t in texts]
        found = self._lookup(keys)
        if self._seeds:
            found.update(self._from_seeds([k for k in dict.fromkeys(keys) if k not in found]))
        todo: dict[str, int] = {}  # first position of each missing key
        for i, k in enumerate(keys):
            if k in found:
                out[i] = found[k]
            elif k not in todo:
                todo[k] = i
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        if todo:
            positions = list(todo.values())
            new = self.inner._embed([texts[i] for i in positions], is_query)
            self.n_chunked = self.inner.n_chunked
            self.misses += len(positions)
            fresh = dict(zip(todo, new))
            self._table.add(self.id, self.dim, ((k, v.astype(np.float32).tobytes()) for k, v in fresh.items()))
            for i, k in enumerate(keys):
                if k in fresh:
                    out[i] = fresh[k]
        return out

    def _from_seeds(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors the seeds hold for ``keys`` (cache misses), copied into the cache."""
        seeded: dict[str, np.ndarray] = {}
        for seed in self._seeds:
            seeded.update(seed.get([k for k in keys if k not in seeded]))
        if seeded:
            self._table.add(self.id, self.dim, ((k, v.tobytes()) for k, v in seeded.items()))
            self.seed_hits += len(seeded)
        return seeded

    def stored(self, texts: Sequence[str], is_query: bool = False) -> dict[str, np.ndarray]:
        """{cache key: vector} of those ``texts`` the cache holds (for writing a seed)."""
        return self._lookup([self.key(t, is_query) for t in texts])

    def __len__(self) -> int:
        return self._table.count(self.id)

    def close(self) -> None:
        self._table.close()
