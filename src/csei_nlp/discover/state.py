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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..store.wal import connect_wal
from ..types import sha256_file, stable_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
  fingerprint TEXT NOT NULL, shard_id TEXT, run_id TEXT
);
CREATE TABLE IF NOT EXISTS shards (
  id TEXT PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL, files TEXT NOT NULL,
  fingerprint TEXT NOT NULL, status TEXT NOT NULL, counts TEXT
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, started TEXT NOT NULL, finished TEXT,
  status TEXT NOT NULL, exit_code INTEGER, resumed INTEGER NOT NULL DEFAULT 0,
  inputs TEXT, counts TEXT, models TEXT, duration_s REAL, message TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
  run_id TEXT NOT NULL, site TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (run_id, site)
);
CREATE TABLE IF NOT EXISTS changes (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL, change TEXT NOT NULL,
  row TEXT NOT NULL, finished TEXT NOT NULL, PRIMARY KEY (run_id, site, change)
);
"""

DONE = "_DONE"


def _j(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class InputFile:
    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Shard:
    id: str
    seq: int
    files: list[InputFile]
    fingerprint: str
    status: str


class StateDB:
    """``<state>/state.sqlite``: the tables above, with the few operations a run needs."""

    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conn = connect_wal(self.dir / "state.sqlite", timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous=FULL")  # job state must survive a kill -9 mid-run
        self.conn.executescript(SCHEMA)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    # paths ------------------------------------------------------------------
    @property
    def shards_dir(self) -> Path:
        return self.dir / "shards"

    def shard_dir(self, shard_id: str) -> Path:
        return self.shards_dir / shard_id

    def shard_done(self, shard_id: str) -> bool:
        return (self.shard_dir(shard_id) / DONE).is_file()

    # runs -------------------------------------------------------------------
    def interrupted_run(self) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM runs WHERE status='running' ORDER BY seq DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    def next_run_seq(self) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM runs").fetchone()
        return int(row[0]) + 1

    def begin_run(self, run_id: str, seq: int, started: str) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO runs(id, seq, started, status) VALUES (?,?,?, 'running')",
                              (run_id, seq, started))

    def mark_resumed(self, run_id: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET resumed = resumed + 1 WHERE id=?", (run_id,))

    def finish_run(self, run_id: str, *, finished: str, status: str, exit_code: int, inputs: Any,
                   counts: Any, models: Any, duration_s: float, message: str = "") -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished=?, status=?, exit_code=?, inputs=?, counts=?, models=?, "
                "duration_s=?, message=? WHERE id=?",
                (finished, status, exit_code, _j(inputs), _j(counts), _j(models), round(duration_s, 3),
                 message, run_id))

    def runs(self) -> list[dict[str, Any]]:
        out = []
        for r in self.conn.execute("SELECT * FROM runs ORDER BY seq"):
            d = dict(r)
            for k in ("inputs", "counts", "models"):
                d[k] = json.loads(d[k]) if d[k] else None
            out.append(d)
        return out

    def last_finished_run(self) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM runs WHERE status IN ('ok', 'partial') ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else None

    # inputs and shards ------------------------------------------------------
    def known_inputs(self) -> dict[str, sqlite3.Row]:
        return {r["path"]: r for r in self.conn.execute("SELECT * FROM inputs")}

    def pending_shards(self) -> list[Shard]:
        rows = self.conn.execute("SELECT * FROM shards WHERE status != 'merged' ORDER BY seq").fetchall()
        return [self._shard(r) for r in rows]

    def shards_of_run(self, run_id: str) -> list[Shard]:
        rows = self.conn.execute("SELECT * FROM shards WHERE run_id=? ORDER BY seq", (run_id,)).fetchall()
        return [self._shard(r) for r in rows]

    @staticmethod
    def _shard(r: sqlite3.Row) -> Shard:
        files = [InputFile(**f) for f in json.loads(r["files"])]
        return Shard(r["id"], r["seq"], files, r["fingerprint"], r["status"])

    def plan_shards(self, run_id: str, files: list[InputFile], shard_size: int, fingerprint: str) -> list[Shard]:
        """Cut ``files`` (already sorted) into shards and record the plan in one transaction."""
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM shards").fetchone()
        seq = int(row[0])
        out: list[Shard] = []
        for i in range(0, len(files), shard_size):
            chunk = files[i:i + shard_size]
            seq += 1
            sid = stable_id(fingerprint, *(f"{f.path}\x1e{f.sha256}" for f in chunk))
            out.append(Shard(sid, seq, chunk, fingerprint, "planned"))
        with self.conn:
            for s in out:
                self.conn.execute(
                    "INSERT OR REPLACE INTO shards(id, run_id, seq, files, fingerprint, status) VALUES (?,?,?,?,?,?)",
                    (s.id, run_id, s.seq, _j([f.__dict__ for f in s.files]), fingerprint, "planned"))
        return out

    def shard_merged(self, shard: Shard, run_id: str, counts: dict[str, Any]) -> None:
        """The shard is in the cumulative store: record its inputs as seen, in one transaction."""
        with self.conn:
            for f in shard.files:
                self.conn.execute(
                    "INSERT OR REPLACE INTO inputs VALUES (?,?,?,?,?,?,?)",
                    (f.path, f.size, f.mtime_ns, f.sha256, shard.fingerprint, shard.id, run_id))
            self.conn.execute("UPDATE shards SET status='merged', counts=? WHERE id=?", (_j(counts), shard.id))

    def touch_input(self, f: InputFile) -> None:
        """Same content, new size/mtime record (e.g. the file was copied): remember the new stat."""
        with self.conn:
            self.conn.execute("UPDATE inputs SET size=?, mtime_ns=? WHERE path=?", (f.size, f.mtime_ns, f.path))

    def forget_inputs(self, paths: Iterable[str]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM inputs WHERE path=?", [(p,) for p in paths])

    # snapshots and changes --------------------------------------------------
    def snapshot(self, run_id: str | None) -> dict[str, dict[str, Any]]:
        if run_id is None:
            return {}
        rows = self.conn.execute("SELECT site, row FROM snapshots WHERE run_id=?", (run_id,))
        return {r["site"]: json.loads(r["row"]) for r in rows}

    def save_snapshot(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM snapshots WHERE run_id=?", (run_id,))
            self.conn.executemany("INSERT INTO snapshots VALUES (?,?,?)", [(run_id, r["site"], _j(r)) for r in rows])

    def save_changes(self, run_id: str, finished: str, rows: list[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM changes WHERE run_id=?", (run_id,))
            self.conn.executemany(
                "INSERT INTO changes VALUES (?,?,?,?,?,?)",
                [(run_id, i, r["site"], r["change"], _j(r), finished) for i, r in enumerate(rows)])

    def recent_changes(self, n_runs: int) -> list[dict[str, Any]]:
        """Changes of the last ``n_runs`` runs that had any, newest run first."""
        runs = [r[0] for r in self.conn.execute(
            "SELECT run_id FROM changes GROUP BY run_id ORDER BY MAX(finished) DESC, run_id DESC LIMIT ?",
            (n_runs,))]
        out = []
        for rid in runs:
            for r in self.conn.execute("SELECT * FROM changes WHERE run_id=? ORDER BY seq", (rid,)):
                out.append({**json.loads(r["row"]), "run_id": r["run_id"], "finished": r["finished"]})
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


