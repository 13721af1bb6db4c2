"""One ``csei scan`` run, from input paths to an output folder.

    inputs --read--> RawInput --worker pool--> Document --dedup--> tag (embed + classify)
           --> store (SQLite) --> rank sites --> documents.jsonl, failures.jsonl,
               candidates.csv/jsonl, report.html, run.json

Documents stream through in bounded batches, so memory does not grow with the
corpus.  Every input unit ends as exactly one Document row (ok, skipped or
failed), which is what makes ``ok + skipped + failed == seen`` hold.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from . import config as config_mod
from .config import Config
from .errors import ConfigError
from .executors import local
from .pipeline.dedup import Deduplicator
from .pipeline.read import iter_inputs
from .store.sqlite import Store
from .types import Document, sha256_file


@dataclass
class ScanSummary:
    run_id: str
    out_dir: Path
    seen: int = 0
    ok: int = 0
    skipped: int = 0
    failed: int = 0
    reasons: dict[str, Counter] = field(default_factory=lambda: {"skipped": Counter(), "failed": Counter()})
    languages: Counter = field(default_factory=Counter)
    n_candidates: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, doc: Document) -> None:
        self.seen += 1
        if doc.status == "ok":
            self.ok += 1
            self.languages[doc.lang] += 1
        else:
            setattr(self, doc.status, getattr(self, doc.status) + 1)
            self.reasons[doc.status][doc.reason] += 1

    def counts(self) -> dict[str, Any]:
        return {
            "seen": self.seen, "ok": self.ok, "skipped": self.skipped, "failed": self.failed,
            "skipped_reasons": dict(self.reasons["skipped"]), "failed_reasons": dict(self.reasons["failed"]),
            "languages": dict(self.languages), "candidates": self.n_candidates,
        }

    def render(self) -> str:
        lines = [
            f"inputs seen: {self.seen}",
            f"  ok:      {self.ok}",
            f"  skipped: {self.skipped}" + _reasons(self.reasons["skipped"]),
            f"  failed:  {self.failed}" + _reasons(self.reasons["failed"]),
            "languages: " + (", ".join(f"{k} {v}" for k, v in self.languages.most_common()) or "none"),
            f"candidates: {self.n_candidates}",
            f"output: {self.out_dir}",
        ]
        return "\n".join(lines)


def _reasons(c: Counter) -> str:
    return ("  (" + ", ".join(f"{k}: {v}" for k, v in c.most_common()) + ")") if c else ""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_scan(paths: list[str | Path], out_dir: str | Path, cfg: Config | None = None, *,
             progress: bool = False, batch_size: int = 64, engine: str = "local",
             address: str | None = None) -> ScanSummary:
    """Scan ``paths`` into ``out_dir``; return the run summary.

    ``engine`` picks the executor of the per-document steps: ``local`` (a
    process pool) or ``ray`` (Ray tasks; ``address`` names the cluster).
    Both give the same documents in the same order.

    Raises ConfigError / ModelError before reading any input if the
    configuration or the models are unusable; never raises for a bad input.
    """
    from .pipeline.tag import Tagging
    from .rank import rank_sites
    from .report.outputs import write_outputs

    cfg = cfg or config_mod.load()
    execute = _executor(engine, address)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = _now()
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + config_mod.fingerprint(cfg)[:6]
    tagging = Tagging.from_config(cfg, out)  # fails fast on missing/incompatible models
    summary = ScanSummary(run_id=run_id, out_dir=out)
    store = Store(out)
    store.begin_run(run_id, started, __version__, config_mod.as_dict(cfg), config_mod.fingerprint(cfg))
    dedup = Deduplicator(cfg)
    sources: set[str] = set()
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="doc", desc="scan", file=sys.stderr, dynamic_ncols=True)
    batch: list[Document] = []
    try:
        for doc in execute(iter_inputs([Path(p) for p in paths], cfg), cfg):
            sources.add(doc.source)
            if doc.status == "ok":
                dup = dedup.add(doc.id, doc.text)
                doc.dup_of, doc.near_dup_group = dup.dup_of, dup.near_dup_group
            summary.add(doc)
            batch.append(doc)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(ok=summary.ok, skipped=summary.skipped, failed=summary.failed)
            if len(batch) >= batch_size:
                _flush(batch, tagging, store, run_id)
        _flush(batch, tagging, store, run_id)
        store.set_near_dup_groups(dedup.groups())
    finally:
        if bar is not None:
            bar.close()
    t_docs = time.perf_counter() - t0
    t1 = time.perf_counter()
    candidates = rank_sites(store, cfg, tagging)
    store.replace_candidates(candidates, run_id)
    summary.n_candidates = len(candidates)
    t_rank = time.perf_counter() - t1
    summary.timings = {"documents_s": round(t_docs, 3), "rank_s": round(t_rank, 3),
                       **{k: round(v, 3) for k, v in tagging.timings.items()}}
    manifest = {
        "run_id": run_id,
        "version": __version__,
        "started": started,
        "finished": _now(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "inputs": [str(p) for p in paths],
        "input_hashes": {s: sha256_file(s) for s in sorted(sources)},
        "config": config_mod.as_dict(cfg),
        "config_hash": config_mod.fingerprint(cfg),
        "seeds": {"language": cfg.language.seed, "dedup": 1},
        "models": tagging.describe(),
        "counts": summary.counts(),
        "timings": summary.timings,
    }
    write_outputs(store, out, manifest, candidates, cfg.report)
    store.finish_run(run_id, manifest["finished"], "ok", summary.counts(), summary.timings, manifest)
    store.close()
    return summary


def _executor(engine: str, address: str | None) -> Any:
    """The executor's ``run(raws, cfg)``; ConfigError for an unknown or unusable engine."""
    if engine == "local":
        if address:
            raise ConfigError("--address is only used with --engine ray")
        return local.run
    if engine == "ray":
        from .executors import ray as ray_executor

        ray_executor.require_ray()  # fail before any input is read when ray is missing

        def execute(raws: Any, cfg: Config) -> Any:
            return ray_executor.run(raws, cfg, address=address)

        return execute
    raise ConfigError(f"unknown engine {engine!r}: use 'local' or 'ray'")


def _flush(batch: list[Document], tagging: Any, store: Store, run_id: str) -> None:
    if not batch:
        return
    tagging.tag([d for d in batch if d.status == "ok"])
    store.put_documents(batch, run_id)
    batch.clear()


def load_manifest(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / "run.json").read_text("utf-8"))
