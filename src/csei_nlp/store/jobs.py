"""The tables of a discovery job's ``state.sqlite`` and every query on them.

Why here: every SQL statement of the package lives in ``store/``.  What the
tables mean, and how a run uses them to resume after a kill, is told in
:mod:`csei_nlp.discover.state`, which builds on :class:`JobStore`.  All writes
are single transactions with ``synchronous=FULL``: job state must survive a
``kill -9`` mid-run.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .wal import connect_wal

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
CREATE TABLE IF NOT EXISTS cc_records (
  warc_filename TEXT NOT NULL, "offset" INTEGER NOT NULL, length INTEGER NOT NULL, url TEXT NOT NULL,
  site TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, retry INTEGER NOT NULL,
  attempts INTEGER NOT NULL, warc TEXT, run_id TEXT NOT NULL, PRIMARY KEY (warc_filename, "offset", length)
);
CREATE TABLE IF NOT EXISTS cc_expanded (site TEXT PRIMARY KEY, run_id TEXT NOT NULL, records INTEGER NOT NULL);
"""


def _j(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class InputFile:
    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class CCOutcome:
    """What became of one Common Crawl record a run asked for (``cc_records``)."""

    warc_filename: str
    offset: int
    length: int
    url: str
    site: str
    kind: str  # "select" (the job's filters) or "expand" (more pages of a candidate's host)
    status: str  # "fetched" or "failed"
    reason: str = ""
    retry: bool = False  # a failed record a later run asks for again (a transient reason)
    attempts: int = 1
    warc: str = ""  # the job's WARC file that holds it


@dataclass(frozen=True)
class Shard:
    id: str
    seq: int
    files: list[InputFile]
    fingerprint: str
    status: str


class JobStore:
    """The job's tables over one WAL connection, with the few operations a run needs."""

    def __init__(self, path: str | Path) -> None:
        self.conn = connect_wal(path, timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous=FULL")  # job state must survive a kill -9 mid-run
        self.conn.executescript(SCHEMA)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

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

    def last_shard_seq(self) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM shards").fetchone()
        return int(row[0])

    def record_plan(self, run_id: str, shards: list[Shard]) -> None:
        """Record planned shards in one transaction (a shard planned again is replaced)."""
        with self.conn:
            for s in shards:
                self.conn.execute(
                    "INSERT OR REPLACE INTO shards(id, run_id, seq, files, fingerprint, status) VALUES (?,?,?,?,?,?)",
                    (s.id, run_id, s.seq, _j([f.__dict__ for f in s.files]), s.fingerprint, s.status))

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

    # Common Crawl records ---------------------------------------------------
    def cc_skip_keys(self) -> list[tuple[str, int, int]]:
        """(warc_filename, offset, length) of every record not to request again: fetched, or failed
        for a reason that a retry would not change."""
        rows = self.conn.execute(
            'SELECT warc_filename, "offset", length FROM cc_records WHERE status=\'fetched\' OR retry=0')
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def cc_record(self, outcomes: Iterable[CCOutcome], run_id: str) -> None:
        """Record what became of a batch of records, in one transaction (after their WARC is on disk)."""
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO cc_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(o.warc_filename, o.offset, o.length, o.url, o.site, o.kind, o.status, o.reason or None,
                  int(o.retry), o.attempts, o.warc or None, run_id) for o in outcomes])

    def cc_counts(self) -> dict[str, int]:
        """Records by status (``fetched``, ``failed``) over every run."""
        return {r[0]: int(r[1]) for r in self.conn.execute(
            "SELECT status, COUNT(*) FROM cc_records GROUP BY status ORDER BY status")}

    def cc_fetched_sites(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT DISTINCT site FROM cc_records WHERE status='fetched'")}

    def cc_expanded_sites(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT site FROM cc_expanded")}

    def cc_mark_expanded(self, counts: dict[str, int], run_id: str) -> None:
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO cc_expanded VALUES (?,?,?)",
                                  [(site, run_id, n) for site, n in counts.items()])
