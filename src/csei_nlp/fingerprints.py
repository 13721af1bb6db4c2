"""What makes two runs' per-document results interchangeable: the processing fingerprint.

Why here: ``csei discover`` decides from it which inputs to process again, and
``csei scan`` whether the result shards of an earlier, stopped scan in the same
output folder can be used instead of processing their documents again.  Both
must agree on what changes a stored document: the configuration sections that
act on documents, the content of the models, and the package version.  How
the work is spread (workers, threads, batches) does not.
"""
from __future__ import annotations

import hashlib
import json

from .config import Config, as_dict

# Sections of the scan configuration that change what is stored per document.  [rank] and
# [score] only change the ranking, which is recomputed over the whole store every run.
PROCESSING_SECTIONS = ("scan", "pdf", "extract", "language", "segment", "dedup", "embed", "classify", "cascade")
# [scan] keys that only say how the work is spread, not what it gives
EXECUTION_KEYS = ("workers", "model_threads", "tag_batch", "max_tasks_per_worker", "shard_docs")


def model_hashes(cfg: Config) -> dict[str, str]:
    """sha256 of each file of the model set the scan would use ({} when classification is off).

    Content, not file times: a fresh checkout of the same models must not
    rescan everything; the kept history (``models/.history``) does not count.
    """
    if not cfg.classify.enabled:
        return {}
    from .pipeline.classify import resolve_models_dir
    from .train.release import model_files

    mdir = resolve_models_dir(cfg.classify.models_dir)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (model_files(mdir) if mdir.is_dir() else [])}


def models_fingerprint(cfg: Config) -> str:
    """A hash of the content of the model set the scan would use ("off" when classification is off)."""
    if not cfg.classify.enabled:
        return "off"
    h = hashlib.sha256()
    for name, digest in model_hashes(cfg).items():
        h.update(f"{name}\x1f{digest}\n".encode())
    return h.hexdigest()[:16]


def processing_fingerprint(cfg: Config) -> str:
    """A hash of everything that changes a processed document (configuration, models, version)."""
    from . import __version__

    plain = as_dict(cfg)
    part = {s: plain.get(s) for s in PROCESSING_SECTIONS}
    part["scan"] = {k: v for k, v in plain["scan"].items() if k not in EXECUTION_KEYS}
    blob = json.dumps({"cfg": part, "models": models_fingerprint(cfg), "version": __version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
