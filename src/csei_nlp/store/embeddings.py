"""The embedding cache's table: float32 vectors keyed by (embedder id, text hash).

Why here: every SQL statement of the package lives in ``store/``.  The
caching policy (which key a text gets, what to embed, counting hits) stays in
:mod:`csei_nlp.pipeline.embed.cache`; this module only reads and appends rows
of ``vectors.sqlite``, opened through :func:`connect_wal` because several scan
workers share one cache.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .wal import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL,
    key      TEXT NOT NULL,
    dim      INTEGER NOT NULL,
    vec      BLOB NOT NULL,
    PRIMARY KEY (embedder, key)
) WITHOUT ROWID
"""
LOOKUP_BATCH = 500  # keys per SELECT (SQLite limits the number of bound parameters)


class VectorTable:
    """``vectors.sqlite``: look vectors up by key, append new ones, count them.

    Opening may raise ``OSError`` or ``sqlite3.Error``; the caller says which cache failed.
    """

    def __init__(self, path: str | Path, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect_wal(self.path, timeout=timeout, check_same_thread=False)
        self._db.execute(SCHEMA)
        self._db.commit()

    def lookup(self, embedder: str, keys: list[str]) -> Iterator[tuple[str, int, bytes]]:
        """``(key, dim, blob)`` of the stored vectors among ``keys`` (distinct keys expected)."""
        for i in range(0, len(keys), LOOKUP_BATCH):
            part = keys[i : i + LOOKUP_BATCH]
            marks = ",".join("?" * len(part))
            yield from self._db.execute(
                f"SELECT key, dim, vec FROM vectors WHERE embedder = ? AND key IN ({marks})",
                [embedder, *part],
            )

    def add(self, embedder: str, dim: int, items: Iterable[tuple[str, bytes]]) -> None:
        """Append ``(key, blob)`` rows in one transaction; a key already stored is kept."""
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO vectors (embedder, key, dim, vec) VALUES (?, ?, ?, ?)",
                [(embedder, k, dim, blob) for k, blob in items],
            )

    def count(self, embedder: str) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors WHERE embedder = ?", [embedder]).fetchone()[0])

    def close(self) -> None:
        self._db.close()
