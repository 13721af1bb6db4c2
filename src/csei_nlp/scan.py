"""One ``csei scan`` run, from input paths to an output folder.

    inputs --read--> RawInput --workers: process + tag (embed, classify)--> Document
           --driver: dedup --> shards (Parquet) --> store (SQLite) --> rank sites
           --> documents.jsonl, failures.jsonl, candidates.csv/jsonl, report.html, run.json

The expensive stages (extraction, and above all embedding and classifying) run
where the documents are: in the local workers or on the Ray cluster.  The
driver keeps only what needs the whole corpus: deduplication, the store, site
aggregation, ranking and the outputs.

Documents stream through in bounded batches, so memory does not grow with the
corpus.  Every ``[scan] shard_docs`` documents become one result shard
(:mod:`csei_nlp.store.shards`); a scan started again into the same folder with
the same inputs and processing fingerprint reads the finished shards instead of
processing their documents again.  Every input unit ends as exactly one
Document row (ok, skipped or failed), which is what makes
``ok + skipped + failed == seen`` hold.
"""
from __future__ import annotations

import itertools
import json
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from . import __version__
from . import config as config_mod
from .config import Config
from .errors import ConfigError
from .executors import local
from .pipeline.dedup import Deduplicator
from .pipeline.read import iter_inputs
from .store.sqlite import Store
from .types import Document, RawInput, sha256_file


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
    resumed: int = 0  # documents read back from an earlier run's shards
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
        if self.resumed:
            lines.insert(1, f"  resumed: {self.resumed} documents read back from {self.out_dir / 'shards'}")
        return "\n".join(lines)


def _reasons(c: Counter) -> str:
    return ("  (" + ", ".join(f"{k}: {v}" for k, v in c.most_common()) + ")") if c else ""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_scan(paths: list[str | Path], out_dir: str | Path, cfg: Config | None = None, *,
             progress: bool = False, engine: str = "local", address: str | None = None,
             fresh: bool = False) -> ScanSummary:
    """Scan ``paths`` into ``out_dir``; return the run summary.

    ``engine`` picks the executor of the per-document steps: ``local`` (a
    process pool) or ``ray`` (Ray tasks and actors; ``address`` names the cluster).
    Both give the same documents in the same order.  ``fresh``: process every
    input again, ignoring the shards of an earlier scan in ``out_dir``.

    Raises ConfigError / ModelError before reading any input if the
    configuration or the models are unusable; never raises for a bad input.
    """
    from .fingerprints import processing_fingerprint
    from .pipeline.tag import Tagging
    from .rank import rank_sites
    from .report.outputs import write_outputs
    from .store.shards import ShardFolder

    cfg = cfg or config_mod.load()
    execute = _executor(engine, address)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = _now()
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + config_mod.fingerprint(cfg)[:6]
    # fails fast on missing/incompatible models; the models themselves load where documents are tagged
    tagging = Tagging.from_config(cfg, out, load_embedder=False)
    summary = ScanSummary(run_id=run_id, out_dir=out)
    shards = ShardFolder(out)
    key = {"fingerprint": processing_fingerprint(cfg), "inputs": [str(Path(p).resolve()) for p in paths],
           "shard_docs": int(cfg.scan.shard_docs)}
    resume = _Resume(shards, shards.open(key, fresh=fresh))
    store = Store(out)
    store.begin_run(run_id, started, __version__, config_mod.as_dict(cfg), config_mod.fingerprint(cfg))
    dedup = Deduplicator(cfg)
    sources: set[str] = set()
    t0 = time.perf_counter()
    bars = _Bars(progress, tagging.enabled)
    batch: list[Document] = []
    n_shard = 0
    dim = int((tagging.embedder_info or {}).get("dim", 0))
    try:
        raws = iter_inputs([Path(p) for p in paths], cfg)

        def process_rest(rest: Iterator[RawInput]) -> Iterator[Document]:
            if tagging.enabled:
                return execute(rest, cfg, tagging, bars.read)
            return _marked_untagged(execute(rest, cfg, None, bars.read), tagging)

        for doc in resume.documents(raws, process_rest, tagging, bars):
            sources.add(doc.source)
            if doc.status == "ok":
                dup = dedup.add(doc.id, doc.text)
                doc.dup_of, doc.near_dup_group = dup.dup_of, dup.near_dup_group
            summary.add(doc)
            bars.tagged(doc, summary)
            batch.append(doc)
            if len(batch) >= cfg.scan.shard_docs:
                _flush(batch, n_shard, resume, store, run_id, tagging, dim)
                n_shard += 1
        if batch:
            _flush(batch, n_shard, resume, store, run_id, tagging, dim)
        store.set_near_dup_groups(dedup.groups())
    finally:
        bars.close()
    summary.resumed = resume.n_docs
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
        "resumed_documents": summary.resumed,
        "timings": summary.timings,
    }
    write_outputs(store, out, manifest, candidates, cfg.report)
    store.finish_run(run_id, manifest["finished"], "ok", summary.counts(), summary.timings, manifest)
    store.close()
    return summary


def _executor(engine: str, address: str | None) -> Any:
    """The executor's ``run(raws, cfg, tagging, on_processed)``; ConfigError for an unknown or unusable engine."""
    if engine == "local":
        if address:
            raise ConfigError("--address is only used with --engine ray")

        def run_local(raws: Any, cfg: Config, tagging: Any, on_processed: Any) -> Any:
            return local.run(raws, cfg, tagging=tagging, on_processed=on_processed)

        return run_local
    if engine == "ray":
        from .executors import ray as ray_executor

        ray_executor.require_ray()  # fail before any input is read when ray is missing

        def run_ray(raws: Any, cfg: Config, tagging: Any, on_processed: Any) -> Any:
            return ray_executor.run(raws, cfg, address=address, tagging=tagging, on_processed=on_processed)

        return run_ray
    raise ConfigError(f"unknown engine {engine!r}: use 'local' or 'ray'")


def _marked_untagged(docs: Iterator[Document], tagging: Any) -> Iterator[Document]:
    """With classification off there is no model work: the driver records why (cheap)."""
    for doc in docs:
        if doc.status == "ok":
            tagging.tag([doc])
        yield doc


class _Resume:
    """Which documents an earlier, stopped scan in the same folder already finished (its shards)."""

    def __init__(self, shards: Any, reusable: int) -> None:
        self.shards = shards
        self.kept = reusable  # shards 0 .. kept-1 are still valid
        self.sizes: dict[int, int] = {}
        self.n_docs = 0

    def documents(self, raws: Iterator[RawInput], execute: Callable[[Iterator[RawInput]], Iterator[Document]],
                  tagging: Any, bars: "_Bars") -> Iterator[Document]:
        """The finished documents of the kept shards, then the executor's for the rest of ``raws``.

        Shards are a prefix of the input stream, so each shard document must be the
        next input's; at the first one that is not (inputs changed), that shard and
        every later one are dropped and the executor takes over from that input.
        """
        rest = iter(raws)
        for k in range(self.kept):
            got = self.shards.read(k)
            if got is None:
                self._drop(k)
                break
            docs, info = got
            tagging.absorb({"anchors": info.get("anchors")})
            for doc in docs:
                raw = next(rest, None)
                if raw is None or raw.doc_id != doc.id:
                    self._drop(k)
                    if raw is not None:
                        rest = itertools.chain([raw], rest)
                    yield from execute(rest)
                    return
                self.n_docs += 1
                bars.read(doc)
                yield doc
            self.sizes[k] = len(docs)
        yield from execute(rest)

    def _drop(self, k: int) -> None:
        self.kept = min(self.kept, k)
        self.shards.drop_from(k)

    def done(self, k: int, n: int) -> bool:
        """Whether shard ``k`` with ``n`` documents is already on disk, as read back."""
        return k < self.kept and self.sizes.get(k) == n


class _Bars:
    """One progress bar per stage (``--progress``): documents read, embedded, classified."""

    def __init__(self, on: bool, tagging: bool) -> None:
        self.bars: dict[str, Any] = {}
        if not on:
            return
        from tqdm import tqdm

        stages = ["read", "embedded", "classified"] if tagging else ["read"]
        for i, name in enumerate(stages):
            self.bars[name] = tqdm(unit="doc", desc=f"{name:>10}", position=i, file=sys.stderr,
                                   dynamic_ncols=True, mininterval=0.5)
        self.passages = 0

    def read(self, doc: Document) -> None:
        if "read" in self.bars:
            self.bars["read"].update(1)

    def tagged(self, doc: Document, summary: ScanSummary) -> None:
        if not self.bars:
            return
        self.bars["read"].set_postfix(ok=summary.ok, skipped=summary.skipped, failed=summary.failed, refresh=False)
        if "embedded" in self.bars and doc.status == "ok":
            if doc.meta.get("embedded"):
                self.passages += sum(1 for p in doc.passages if p.embedded)
                self.bars["embedded"].update(1)
                self.bars["embedded"].set_postfix(passages=self.passages, refresh=False)
            self.bars["classified"].update(1)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _flush(batch: list[Document], k: int, resume: _Resume, store: Store, run_id: str, tagging: Any,
           dim: int) -> None:
    """Shard ``k`` to disk (unless read back unchanged from an earlier run), then into the store."""
    if not resume.done(k, len(batch)):
        resume.shards.write(k, batch, {"run_id": run_id, "anchors": tagging.anchors}, dim=dim)
    store.put_documents(batch, run_id)
    batch.clear()


def load_manifest(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / "run.json").read_text("utf-8"))
