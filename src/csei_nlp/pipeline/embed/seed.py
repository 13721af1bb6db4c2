"""Vectors shipped with the annotations, so that a fresh clone does not embed them again.

Why: the annotations hold ~6,800 passage texts.  At a few passages per second
on a CPU, a fresh clone would spend about 20 minutes embedding them before
``csei train`` or ``csei eval`` could start, and the test suite several minutes.
``csei train`` therefore writes the vectors of every text it used to
``ANNOTATIONS/vectors/<embedder>.npz`` (float16, keyed by the same SHA-256 the
cache uses), and :class:`~csei_nlp.pipeline.embed.cache.CachedEmbedder` reads
it, read-only, for texts its own cache lacks.

A seed is only ever used for the embedder id it names; a new embedder or model
version misses it and embeds as before.  float16 keeps the file small; the
vectors differ from freshly computed ones by less than 1e-3 per component.
"""
from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ...fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

SEED_FOLDER = "vectors"


def seed_path(folder: str | Path, embedder_id: str) -> Path:
    """``folder/<embedder id made filename-safe>.npz``."""
    return Path(folder) / (re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_id) + ".npz")


class SeedVectors:
    """A read-only map from cache key (hex SHA-256) to vector, loaded on first use."""

    def __init__(self, path: str | Path, embedder_id: str, dim: int) -> None:
        self.path, self.embedder_id, self.dim = Path(path), embedder_id, dim
        self._index: dict[bytes, int] | None = None
        self._vectors: np.ndarray | None = None

    def _load(self) -> None:
        self._index, self._vectors = {}, np.zeros((0, self.dim), np.float16)
        if not self.path.is_file():
            return
        try:
            z = np.load(self.path, allow_pickle=False)
            if str(z["embedder"]) != self.embedder_id or z["vectors"].shape[1] != self.dim:
                return
            keys, self._vectors = z["keys"], z["vectors"]
        except (OSError, ValueError, KeyError) as exc:  # a broken seed only costs time
            log.warning("%s: unreadable seed vectors, embedding instead (%s)", self.path, exc)
            return
        self._index = {bytes(k): i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        if self._index is None:
            self._load()
        return len(self._index or {})

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """{key: float32 vector} for the keys the seed holds."""
        if self._index is None:
            self._load()
        assert self._index is not None and self._vectors is not None
        out = {}
        for k in keys:
            i = self._index.get(bytes.fromhex(k))
            if i is not None:
                out[k] = self._vectors[i].astype(np.float32)
        return out


def write_seed(path: str | Path, embedder_id: str, items: dict[str, np.ndarray]) -> int:
    """Write ``{hex key: vector}`` as a seed file (sorted by key, so the bytes are reproducible)."""
    keys = sorted(items)
    if not keys:
        return 0
    vecs = np.vstack([np.asarray(items[k], dtype=np.float32) for k in keys]).astype(np.float16)
    buf = io.BytesIO()
    np.savez_compressed(buf, keys=np.array([bytes.fromhex(k) for k in keys], dtype="S32"), vectors=vecs,
                        embedder=np.array(embedder_id))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return len(keys)
