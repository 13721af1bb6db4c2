"""One ``csei discover`` run: lock -> crawl -> plan -> shards -> merge -> rank -> diff -> report.

Why this shape: an unattended weekly job must (1) only pay for what is new,
(2) survive SIGKILL at any point and (3) never run twice at once.

* Incremental: input files are compared with the ``inputs`` table by (size,
  mtime), then sha256; only new or changed files, or files processed with
  another scan configuration or other models (the *fingerprint*), are planned.
* Resumable: the plan (shards and their files) is committed before any work.
  Each shard is scanned by :func:`csei_nlp.scan.run_scan` into
  ``shards/<id>.tmp/``, marked ``_DONE`` and renamed to ``shards/<id>/``;
  merging into the cumulative store is idempotent (stable document ids), and
  only then are the shard's inputs recorded as seen.  A killed run leaves a
  ``running`` row in the history; the next invocation resumes that run id,
  skipping finished shards, so the end state equals an uninterrupted run.
* Ranking always runs over the whole cumulative store (cheap next to
  processing) and the diff compares with the last finished run's snapshot.

Exit codes (cron/systemd friendly, see docs/discover.md): 0 ok, 1 the run failed
(state kept; the next run resumes), 2 configuration error, 3 another run holds
the lock, 4 finished but some inputs failed and ``strict`` was asked for.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..config import Config
from ..errors import ConfigError, CseiError
from ..fingerprints import model_hashes, models_fingerprint, processing_fingerprint
from ..fsutil import atomic_write_text, fsync_dir
from ..report.outputs import candidates_csv
from ..store.sqlite import Store
from .diff import CHANGE_ORDER, diff_candidates, score_moves, snapshot_row
from .digest import build_digest, digest_html, digest_markdown
from .feed import atom_feed, changes_csv
from .job import Job, load_job
from .lock import JobLock, LockedError
from .state import StateDB, clear_dir, scan_inputs, write_marker

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED, EXIT_PARTIAL = 0, 1, 2, 3, 4

@dataclass
class RunResult:
    run_id: str
    exit_code: int
    status: str
    resumed: bool = False
    new_files: list[str] = field(default_factory=list)
    shards: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    report_dir: Path | None = None
    message: str = ""
    stale_lock: dict[str, Any] | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def models_summary(cfg: Config) -> dict[str, Any]:
    """What a digest says about the models: fingerprint, each file's hash, when they were trained, on which data."""
    if not cfg.classify.enabled:
        return {"models": "off"}
    from ..pipeline.classify import resolve_models_dir
    from ..train.release import describe

    info = describe(resolve_models_dir(cfg.classify.models_dir))
    return {"models": models_fingerprint(cfg), "trained": info.get("created"),
            "training_data_hash": info.get("training_data_hash"),
            "files": {name: digest[:16] for name, digest in model_hashes(cfg).items()}}


def _rank(store: Store, cfg: Config) -> list[dict[str, Any]]:
    from ..aggregate import build_profiles
    from ..pipeline.tag import load_thresholds
    from ..rank import rank_profiles

    return rank_profiles(build_profiles(store, load_thresholds(cfg)), cfg)


def _focus_label(job: Job) -> str:
    parts = (["CEE"] if job.focus_cee else []) + job.focus_countries + job.focus_languages
    return ", ".join(parts)


class _Log:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def __call__(self, msg: str) -> None:
        if self.verbose:
            print(f"[discover] {msg}", file=sys.stderr, flush=True)


def run_job_file(path: str | Path, *, prog: str, verbose: bool = False, strict: bool = False,
                 engine: str = "local", address: str | None = None) -> tuple[int, RunResult | None]:
    """Load and run one job file for a command line (``csei discover``, ``csei schedule``).

    A lock held by another run or a bad job file is not a failed run: it becomes one
    line on stderr starting with ``prog`` and its exit code, with no result.
    """
    try:
        res = run_job(load_job(path), verbose=verbose, strict=strict, engine=engine, address=address)
    except LockedError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_LOCKED, None
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG, None
    return res.exit_code, res


def run_job(job: Job, *, verbose: bool = False, strict: bool = False,
            hook: Callable[[str, dict[str, Any]], None] | None = None,
            engine: str = "local", address: str | None = None) -> RunResult:
    """Run ``job`` once; return its result (never raises for bad input, raises LockedError/ConfigError).

    ``hook(event, info)`` is called at each step boundary ("planned", "shard_done",
    "shard_merged", "ranked", "reported"); the tests use it to kill a run at those points.
    ``engine`` "ray" fetches Common Crawl records and scans shards on a Ray cluster (``address``).
    """
    log = _Log(verbose)
    hook = hook or (lambda event, info: None)
    with JobLock(job.state_dir) as lock:
        if lock.stale:
            log(f"took over a stale lock left by pid {lock.stale.get('pid')} on {lock.stale.get('host')} "
                f"(started {lock.stale.get('started')})")
        state = StateDB(job.state_dir)
        try:
            res = _run_locked(job, state, log, hook, strict, engine, address)
        finally:
            state.close()
        res.stale_lock = lock.stale
        return res


def _run_locked(job: Job, state: StateDB, log: _Log, hook: Callable[[str, dict[str, Any]], None],
                strict: bool, engine: str = "local", address: str | None = None) -> RunResult:
    t0 = time.monotonic()
    interrupted = state.interrupted_run()
    if interrupted:
        run_id = interrupted["id"]
        state.mark_resumed(run_id)
        log(f"resuming interrupted run {run_id}")
    else:
        seq = state.next_run_seq()
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + f"-{seq:04d}"
        state.begin_run(run_id, seq, _now())
        log(f"run {run_id}")
    res = RunResult(run_id=run_id, exit_code=EXIT_OK, status="ok", resumed=bool(interrupted))
    fingerprint = processing_fingerprint(job.cfg)
    counts: dict[str, Any] = {}
    models: dict[str, Any] = {"fingerprint": fingerprint, **models_summary(job.cfg)}
    prev_id = state.last_finished_run()
    prev_models = next((r.get("models") or {} for r in state.runs() if r["id"] == prev_id), {}) if prev_id else {}
    if prev_id and prev_models.get("models") and prev_models.get("models") != models["models"]:
        models["changed_since"] = {"run": prev_id, **{k: prev_models.get(k) for k in
                                                      ("models", "trained", "training_data_hash", "files")}}
        log(f"the models changed since run {prev_id}: every input is scanned again with them")
    try:
        # 1. crawl seed URLs (once per run id: a resumed run reuses its WARC)
        seeds = job.seeds()
        if seeds:
            from .crawl import crawl_to_warc

            warc = job.crawl_dir / f"{run_id}.warc.gz"
            if not warc.exists():
                stats = crawl_to_warc(seeds, warc, job.crawl, log=log)
                counts["crawl"] = stats.as_dict()
                log(f"crawled {stats.fetched} pages from {len(seeds)} seeds into {warc.name}")

        # 1b. Common Crawl: select new records in the index, fetch them by byte range into WARC files
        cc_fetch = None
        if job.commoncrawl is not None:
            from .commoncrawl.step import expand_hosts, fetch_selection

            counts["commoncrawl"] = cc_fetch = fetch_selection(job, state, run_id, engine=engine,
                                                               address=address, log=log)

        store = Store(job.state_dir / "store")
        try:
            shard_counts: dict[str, int] = {"seen": 0, "ok": 0, "skipped": 0, "failed": 0}
            # a second round scans the pages that host expansion fetched after the first ranking
            for round_no in (1, 2):
                paths, unreadable, missing, shards = _plan(job, state, run_id, fingerprint, res, log, hook,
                                                            round_no)
                if job.forget_missing and missing:
                    store.delete_sources(missing)
                    state.forget_inputs(missing)
                _scan_shards(job, state, store, run_id, shards, shard_counts, log, hook, engine, address)
                if (final_models := _shard_models(state, shards)):
                    models["scan"] = final_models

                # 4. rank the whole cumulative store
                cands = _rank(store, job.cfg)
                if round_no == 2 or cc_fetch is None:
                    break
                counts["commoncrawl_expansion"] = expanded = expand_hosts(
                    job, state, run_id, cands, engine=engine, address=address, log=log)
                if not expanded.get("fetched"):
                    break
            store.replace_candidates(cands, run_id)
            store_counts = store.counts()
        finally:
            store.close()
        atomic_write_text(job.state_dir / "candidates.csv", candidates_csv(cands))
        atomic_write_text(job.state_dir / "candidates.jsonl",
                      "".join(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in cands))
        hook("ranked", {"candidates": len(cands)})

        # 5. diff against the last finished run, then the report
        prev = state.snapshot(state.last_finished_run())
        changes = diff_candidates(prev, cands, min_score=job.min_score, include_known=job.include_known,
                                  is_focus=job.is_focus)
        finished = _now()
        state.save_changes(run_id, finished, changes)
        res.changes = changes
        moves = score_moves(prev, cands, min_score=job.min_score, include_known=job.include_known)
        res.report_dir = _write_report(job, state, run_id, finished, changes, models, moves=moves,
                                       rescored=len(res.new_files), inputs=len(paths))
        state.save_snapshot(run_id, [snapshot_row(c) for c in cands])
        hook("reported", {"report_dir": str(res.report_dir)})

        counts.update({"inputs": len(paths), "new_or_changed": len(res.new_files), "shards": len(res.shards),
                       "unreadable": len(unreadable), "gone": len(missing), "processed": shard_counts,
                       "store": store_counts, "candidates": len(cands),
                       "changes": {k: sum(1 for c in changes if c["change"] == k) for k in CHANGE_ORDER}})
        res.counts = counts
        cc_failed = sum(int(counts.get(k, {}).get("failed", 0)) for k in ("commoncrawl", "commoncrawl_expansion"))
        if shard_counts["failed"] or unreadable or cc_failed:
            res.status = "partial"
            res.message = (f"{shard_counts['failed']} inputs failed, {len(unreadable)} unreadable; "
                           f"see {job.state_dir / 'store'} (failures table)")
            if cc_failed:
                res.message += f"; {cc_failed} Common Crawl records failed (see {job.state_dir / 'failures.jsonl'})"
            if strict:
                res.exit_code = EXIT_PARTIAL
        state.finish_run(run_id, finished=finished, status=res.status, exit_code=res.exit_code,
                         inputs=res.new_files, counts=counts, models=models,
                         duration_s=time.monotonic() - t0, message=res.message)
        log(f"done: {len(cands)} candidates; " + ", ".join(
            f"{v} {k}" for k, v in counts["changes"].items()) + f"; report in {res.report_dir}")
        return res
    except CseiError:
        # configuration or model problem found mid-run: leave the run resumable, let the CLI say why
        raise
    except Exception as exc:  # noqa: BLE001 - recorded in the history; the run stays resumable
        res.exit_code, res.status = EXIT_FAILED, "failed"
        res.message = f"{type(exc).__name__}: {exc}"
        log(traceback.format_exc())
        state.finish_run(run_id, finished=_now(), status="failed", exit_code=EXIT_FAILED,
                         inputs=res.new_files, counts=counts, models=models,
                         duration_s=time.monotonic() - t0, message=res.message)
        return res


def _plan(job: Job, state: StateDB, run_id: str, fingerprint: str, res: RunResult, log: _Log,
          hook: Callable[[str, dict[str, Any]], None], round_no: int
          ) -> tuple[list[Path], list[str], list[str], list[Any]]:
    """2. plan: finish shards an interrupted run left, then the new or changed inputs."""
    pending = state.pending_shards()
    in_pending = {f.path for s in pending for f in s.files}
    paths = job.expand_inputs()
    known = state.known_inputs()
    todo, touched, unreadable = scan_inputs(paths, known, fingerprint, in_pending)
    for f in touched:
        state.touch_input(f)
    new_shards = state.plan_shards(run_id, todo, job.shard_size, fingerprint)
    shards = pending + new_shards
    res.new_files = list(dict.fromkeys(res.new_files + [f.path for s in shards for f in s.files]))
    res.shards = list(dict.fromkeys(res.shards + [s.id for s in shards]))
    current = {str(p) for p in paths}
    missing = sorted(p for p in known if p not in current)
    log(f"{len(paths)} input files: {len(todo)} new or changed, {len(in_pending)} pending from an "
        f"interrupted run, {len(unreadable)} unreadable, {len(missing)} gone; {len(shards)} shards"
        + (" (after host expansion)" if round_no > 1 else ""))
    hook("planned", {"shards": [s.id for s in shards], "round": round_no})
    return paths, unreadable, missing, shards


def _scan_shards(job: Job, state: StateDB, store: Store, run_id: str, shards: list[Any],
                 shard_counts: dict[str, int], log: _Log, hook: Callable[[str, dict[str, Any]], None],
                 engine: str, address: str | None) -> None:
    """3. shards: scan each one atomically, then merge it into the cumulative store."""
    from ..scan import run_scan

    for shard in shards:
        final = state.shard_dir(shard.id)
        if not state.shard_done(shard.id):
            tmp = final.with_name(final.name + ".tmp")
            clear_dir(tmp)
            clear_dir(final)  # a folder without _DONE is never trusted
            summary = run_scan([f.path for f in shard.files], tmp, job.cfg, engine=engine, address=address)
            write_marker(tmp, {"shard": shard.id, "run_id": run_id, "counts": summary.counts(),
                               "files": [f.path for f in shard.files]})
            os.replace(tmp, final)
            fsync_dir(final.parent)
            log(f"shard {shard.id}: {len(shard.files)} files, {summary.ok} ok, "
                f"{summary.skipped} skipped, {summary.failed} failed")
            hook("shard_done", {"shard": shard.id})
        marker = json.loads((final / "_DONE").read_text("utf-8"))
        store.merge_from(final, replace_sources=[f.path for f in shard.files])
        state.shard_merged(shard, run_id, marker["counts"])
        for k in shard_counts:
            shard_counts[k] += int(marker["counts"].get(k, 0))
        hook("shard_merged", {"shard": shard.id})


def _shard_models(state: StateDB, shards: list[Any]) -> dict[str, Any] | None:
    for s in reversed(shards):
        run_json = state.shard_dir(s.id) / "run.json"
        if run_json.is_file():
            try:
                return json.loads(run_json.read_text("utf-8")).get("models")
            except (OSError, json.JSONDecodeError):
                return None
    return None


def _write_report(job: Job, state: StateDB, run_id: str, finished: str, changes: list[dict[str, Any]],
                  models: dict[str, Any], *, moves: dict[str, Any], rescored: int, inputs: int) -> Path:
    out = job.report_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    feed_rows = state.recent_changes(job.feed_runs)
    digest = build_digest(changes, title=job.title, run_id=run_id, finished=finished, min_score=job.min_score,
                          focus_label=_focus_label(job), models=models, moves=moves, rescored=rescored,
                          inputs=inputs)
    runs = state.runs()
    files = {
        "new_candidates.csv": changes_csv(changes, run_id),
        "digest.html": digest_html(digest),
        "digest.md": digest_markdown(digest),
        # without entries the feed is as old as the job's first run, so a quiet run never moves it
        "feed.xml": atom_feed(feed_rows, job=job.name, title=job.title,
                              updated=runs[0]["started"] if runs else finished, feed_url=job.feed_url),
    }
    latest = job.report_dir / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        atomic_write_text(out / name, text)
    for name, text in files.items():
        atomic_write_text(latest / name, text)
    atomic_write_text(latest / "RUN_ID", run_id + "\n")
    return out
