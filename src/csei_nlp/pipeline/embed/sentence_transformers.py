"""Any sentence-transformers model, from a local path or the local HF cache.

This backend never touches the network: ``HF_HUB_OFFLINE`` is set before the
library is imported, and a model name is resolved against the local
Hugging Face cache first so that a missing model is one clear error instead
of a download attempt or a stack trace.  On a GPU it runs in fp16.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ConfigError, MissingDependency, ModelError
from .base import Embedder


def resolve_model(model: str) -> str:
    """A local directory for ``model`` (a path, or a hub name found in the HF cache)."""
    p = Path(model).expanduser()
    if p.is_dir():
        return str(p.resolve())
    if p.exists() or model.startswith((".", "/", "~")):
        raise ModelError(f"model {model!r} not found locally: it is not a model folder; pass a local "
                         "model folder with [embed] model = \"/path/to/model\"")
    from huggingface_hub import snapshot_download

    names = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    for name in names:
        try:
            return snapshot_download(name, local_files_only=True)
        except Exception:  # LocalEntryNotFoundError, or a malformed repo id
            continue
    raise ModelError(
        f"model {model!r} not found locally; pass a local path with [embed] model = \"/path/to/model\" "
        f"or install it into the Hugging Face cache beforehand (this tool never downloads models)"
    )


def _wants_e5_prefixes(model: str, prefixes: str) -> bool:
    if prefixes == "auto":
        return "e5" in model.lower()
    if prefixes in ("e5", "none"):
        return prefixes == "e5"
    raise ConfigError(f"[embed] prefixes must be auto, e5 or none, got {prefixes!r}")


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str, device: str = "auto", batch_size: int = 16,
                 prefixes: str = "auto", num_threads: int | None = None) -> None:
        super().__init__()
        if device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"[embed] device must be auto, cpu or cuda, got {device!r}")
        if _wants_e5_prefixes(model, prefixes):
            self.passage_prefix, self.query_prefix = "passage: ", "query: "
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependency("sentence-transformers",
                                    "embedding with [embed] backend = \"sentence-transformers\"") from exc
        if num_threads:
            torch.set_num_threads(int(num_threads))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("[embed] device = \"cuda\" but torch sees no CUDA device; use \"auto\" or \"cpu\"")
        path = resolve_model(model)
        try:
            st = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as exc:
            raise ModelError(f"cannot load sentence-transformers model {model!r} from {path}: {exc}") from exc
        if device == "cuda":
            st = st.half()
        self._st = st
        self.id = f"st:{model}"
        self.device = device
        self.batch_size = max(1, batch_size)
        get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_tokens = int(st.max_seq_length)
        self._tok = st.tokenizer

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        prefix = self.query_prefix if is_query else self.passage_prefix
        return len(self._tok(prefix + text, add_special_tokens=True, truncation=False,
                             verbose=False)["input_ids"])

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.passage_prefix
        vecs = self._st.encode([prefix + t for t in texts], batch_size=self.batch_size,
                               convert_to_numpy=True, normalize_embeddings=True,
                               show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)
