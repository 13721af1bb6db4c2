"""Opening a SQLite file in WAL mode, safely when several processes open it at once.

Switching a database to WAL takes an exclusive lock, and SQLite does not apply
its busy timeout to that switch: a second process opening the same new file at
the same moment gets "database is locked" at once.  The embedding cache, a
run store and a job's state are all opened by several processes (scan workers,
the review app, parallel scans), so every opener goes through here and retries
the switch until the timeout.

This is the one way code in ``csei_nlp`` opens a SQLite file with ``sqlite3``
(the review app's own tables go through SQLAlchemy, see ``appdb``).
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def connect_wal(path: str | Path, timeout: float = 30.0, check_same_thread: bool = True,
                read_only: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode.

    ``read_only`` opens the file with ``mode=ro`` (it must exist) and leaves the
    journal mode alone: a read-only connection cannot switch it, and a file this
    package wrote is in WAL already (the mode is stored in the file).
    """
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout,
                               check_same_thread=check_same_thread)
    conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=check_same_thread)
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
