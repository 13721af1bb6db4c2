"""Several processes opening one new SQLite file at the same moment all get a WAL connection."""
from __future__ import annotations

import multiprocessing as mp
import time

from csei_nlp.store.wal import connect_wal


def _open(path: str, start_at: float, q) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    try:
        conn = connect_wal(path, timeout=20.0)
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        q.put(mode)
    except Exception as exc:  # reported to the test, which fails on it
        q.put(f"error: {exc}")


def test_concurrent_openers_all_succeed(tmp_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    path = str(tmp_path / "shared.sqlite")
    start_at = time.time() + 2.0
    procs = [ctx.Process(target=_open, args=(path, start_at, q)) for _ in range(6)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert results == ["wal"] * 6
    conn = connect_wal(path)
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 6
