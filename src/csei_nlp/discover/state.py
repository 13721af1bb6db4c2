"""The durable state of a discovery job: what was seen, what is planned, what was reported.

Why: a weekly job must only process what is new, and must survive being
killed at any moment.  Everything a run decides is written here *before* it is
acted on, in single SQLite transactions, so a restarted run picks up exactly
where the killed one stopped:

``inputs``     one row per input file already merged: path, size, mtime, sha256 and
               the fingerprint (scan config + models) it was processed with.
``shards``     the plan: each shard's files (with the sha256 seen at planning) and its
               status ``planned`` -> ``merged``.  Shard ids are hashes of their content.
``runs``       the run history (when, inputs, counts, models, duration, outcome).
``snapshots``  each finished run's candidate list, for the next run's diff.
``changes``    each finished run's diff rows, for the Atom feed.

Shard outputs live in ``shards/<id>/`` and are written as ``shards/<id>.tmp/``
then renamed, with a ``_DONE`` marker inside: a folder without the marker is
never trusted.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..store.jobs import InputFile, JobStore, Shard
from ..types import sha256_file, stable_id

__all__ = ["DONE", "InputFile", "Shard", "StateDB", "scan_inputs", "write_marker", "clear_dir"]

DONE = "_DONE"


def _j(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


class StateDB(JobStore):
    """``<state>/state.sqlite`` (tables and queries: :class:`JobStore`) and the shard folders beside it."""

    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.dir / "state.sqlite")

    # paths ------------------------------------------------------------------
    @property
    def shards_dir(self) -> Path:
        return self.dir / "shards"

    def shard_dir(self, shard_id: str) -> Path:
        return self.shards_dir / shard_id

    def shard_done(self, shard_id: str) -> bool:
        return (self.shard_dir(shard_id) / DONE).is_file()

    # planning ---------------------------------------------------------------
    def plan_shards(self, run_id: str, files: list[InputFile], shard_size: int, fingerprint: str) -> list[Shard]:
        """Cut ``files`` (already sorted) into shards and record the plan in one transaction."""
        seq = self.last_shard_seq()
        out: list[Shard] = []
        for i in range(0, len(files), shard_size):
            chunk = files[i:i + shard_size]
            seq += 1
            sid = stable_id(fingerprint, *(f"{f.path}\x1e{f.sha256}" for f in chunk))
            out.append(Shard(sid, seq, chunk, fingerprint, "planned"))
        self.record_plan(run_id, out)
        return out


def scan_inputs(paths: list[Path], known: dict[str, sqlite3.Row], fingerprint: str,
                skip: set[str]) -> tuple[list[InputFile], list[InputFile], list[str]]:
    """Split the current input files into (to process, unchanged-but-restatted, unreadable).

    A file is processed when it is new, or its (size, mtime) changed *and* its sha256
    changed, or it was processed under another fingerprint (scan config or models).
    Files in ``skip`` (already in a pending shard) are left out.
    """
    todo: list[InputFile] = []
    touched: list[InputFile] = []
    unreadable: list[str] = []
    for p in paths:
        key = str(p)
        if key in skip:
            continue
        try:
            st = p.stat()
        except OSError:
            unreadable.append(key)
            continue
        prev = known.get(key)
        if prev is not None and prev["size"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns \
                and prev["fingerprint"] == fingerprint:
            continue
        digest = sha256_file(p)
        if digest is None:
            unreadable.append(key)
            continue
        f = InputFile(key, st.st_size, st.st_mtime_ns, digest)
        if prev is not None and prev["sha256"] == digest and prev["fingerprint"] == fingerprint:
            touched.append(f)
            continue
        todo.append(f)
    return todo, touched, unreadable


def write_marker(folder: Path, payload: dict[str, Any]) -> None:
    atomic_write_text(folder / DONE, _j(payload))


def clear_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


