"""The embedded run store: one SQLite file per output folder.

It holds runs, documents (with their text), passages (with offsets, labels
and evidence spans), failures and the ranked candidates.  Document ids are
stable hashes of the source (path + WARC offset), so writing the same inputs
again replaces rows instead of adding them: a rerun is idempotent.

WAL mode lets the review app read while a scan writes.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..types import Document, Passage, Span
from .wal import connect_wal

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
  version TEXT, config TEXT, config_hash TEXT, counts TEXT, timings TEXT, manifest TEXT
);
CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, offset INTEGER, media TEXT,
  status TEXT NOT NULL, reason TEXT, detail TEXT,
  url TEXT, site TEXT, fetch_date TEXT, title TEXT, date TEXT, canonical_url TEXT, html_lang TEXT,
  lang TEXT, lang_scores TEXT, lang_mix TEXT, text TEXT, n_chars INTEGER, n_passages INTEGER,
  content_hash TEXT, dup_of TEXT, near_dup_group TEXT, labels TEXT, tags TEXT, meta TEXT,
  run_id TEXT
);
CREATE INDEX IF NOT EXISTS documents_site ON documents(site);
CREATE INDEX IF NOT EXISTS documents_status ON documents(status);
CREATE TABLE IF NOT EXISTS passages (
  doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
  text TEXT NOT NULL, lang TEXT, n_tokens INTEGER, labels TEXT, spans TEXT,
  embedded INTEGER NOT NULL DEFAULT 0, skip_reason TEXT,
  PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS failures (
  source TEXT PRIMARY KEY, doc_id TEXT, status TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT,
  run_id TEXT
);
CREATE TABLE IF NOT EXISTS candidates (
  site TEXT PRIMARY KEY, rank INTEGER NOT NULL, score REAL NOT NULL, components TEXT NOT NULL,
  country TEXT, cee INTEGER NOT NULL, known INTEGER NOT NULL, known_name TEXT,
  n_documents INTEGER NOT NULL, languages TEXT, tags TEXT, evidence TEXT, name TEXT, run_id TEXT,
  explanations TEXT
);
CREATE INDEX IF NOT EXISTS candidates_rank ON candidates(rank);
"""


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Store:
    """A thin, typed layer over the SQLite file; callers never write SQL."""

    FILENAME = "csei.sqlite"

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.is_dir() or path.suffix == "":
            path = path / self.FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = connect_wal(path, timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript(SCHEMA)
        self.conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        if "explanations" not in self._columns("candidates"):  # stores written before it existed
            self.conn.execute("ALTER TABLE candidates ADD COLUMN explanations TEXT")
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs -----------------------------------------------------------------
    def begin_run(self, run_id: str, started: str, version: str, config: dict, config_hash: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO runs(id, started, status, version, config, config_hash) VALUES (?,?,?,?,?,?)",
            (run_id, started, "running", version, _j(config), config_hash),
        )
        self.conn.commit()

    def finish_run(self, run_id: str, finished: str, status: str, counts: dict, timings: dict,
                   manifest: dict) -> None:
        self.conn.execute(
            "UPDATE runs SET finished=?, status=?, counts=?, timings=?, manifest=? WHERE id=?",
            (finished, status, _j(counts), _j(timings), _j(manifest), run_id),
        )
        self.conn.commit()

    def runs(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM runs ORDER BY started").fetchall()
        return [dict(r) for r in rows]

    # documents ------------------------------------------------------------
    def put_documents(self, docs: Iterable[Document], run_id: str) -> None:
        """Insert or replace documents with their passages and failure rows."""
        c = self.conn
        for d in docs:
            c.execute(
                """INSERT OR REPLACE INTO documents VALUES
                   (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (d.id, d.source, d.offset, d.media, d.status, d.reason, d.detail, d.url, d.site,
                 d.fetch_date, d.title, d.date, d.canonical_url, d.html_lang, d.lang,
                 _j(d.lang_scores), _j(d.lang_mix), d.text, len(d.text), len(d.passages),
                 d.content_hash, d.dup_of, d.near_dup_group, _j(d.labels), _j(d.tags),
                 _j(d.meta), run_id),
            )
            c.execute("DELETE FROM passages WHERE doc_id=?", (d.id,))
            c.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(d.id, p.index, p.start, p.end, p.text, p.lang, p.n_tokens, _j(p.labels),
                  _j([s.to_dict() for s in p.spans]), int(p.embedded), p.skip_reason)
                 for p in d.passages],
            )
            if d.status == "ok":
                c.execute("DELETE FROM failures WHERE source=?", (d.source_ref,))
            else:
                c.execute(
                    "INSERT OR REPLACE INTO failures VALUES (?,?,?,?,?,?)",
                    (d.source_ref, d.id, d.status, d.reason, d.detail, run_id),
                )
        c.commit()

    def set_near_dup_groups(self, groups: dict[str, str]) -> None:
        """Record the final near-duplicate group of each document (first members learn theirs last)."""
        self.conn.executemany("UPDATE documents SET near_dup_group=? WHERE id=?",
                              [(g, doc_id) for doc_id, g in groups.items()])
        self.conn.commit()

    def update_meta(self, updates: dict[str, dict[str, Any]]) -> None:
        """Merge ``updates[doc_id]`` into each document's ``meta`` (e.g. the candidate it counts for)."""
        self.conn.executemany("UPDATE documents SET meta = json_patch(COALESCE(meta, '{}'), ?) WHERE id=?",
                              [(_j(upd), doc_id) for doc_id, upd in updates.items()])
        self.conn.commit()

    def document_rows(self, status: str | None = "ok", with_text: bool = False) -> Iterator[dict[str, Any]]:
        cols = "*" if with_text else ", ".join(
            c for c in self._columns("documents") if c not in ("text",))
        sql = f"SELECT {cols} FROM documents"
        args: tuple = ()
        if status is not None:
            sql += " WHERE status=?"
            args = (status,)
        for row in self.conn.execute(sql + " ORDER BY id", args):
            yield _decode_row(dict(row))

    def passages_of(self, doc_id: str) -> list[Passage]:
        rows = self.conn.execute("SELECT * FROM passages WHERE doc_id=? ORDER BY idx", (doc_id,))
        out = []
        for r in rows:
            p = Passage(doc_id=r["doc_id"], index=r["idx"], start=r["start"], end=r["end"],
                        text=r["text"], lang=r["lang"], n_tokens=r["n_tokens"],
                        labels=json.loads(r["labels"] or "{}"), embedded=bool(r["embedded"]),
                        skip_reason=r["skip_reason"] or "")
            p.spans = [Span(**s) for s in json.loads(r["spans"] or "[]")]
            out.append(p)
        return out

    def failures(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM failures ORDER BY source")]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall()
        return {r[0]: r[1] for r in rows}

    def merge_from(self, other: str | Path, replace_sources: Iterable[str] = ()) -> dict[str, int]:
        """Copy the documents, passages and failures of another store into this one.

        Rows of documents whose ``source`` is in ``replace_sources`` are deleted first
        (an input that changed may now hold fewer WARC records).  Rows are keyed by
        stable ids, so merging the same store twice leaves the same content: the merge
        is idempotent, and it runs in one transaction.
        """
        other = Path(other)
        if other.is_dir():
            other = other / self.FILENAME
        c = self.conn
        c.commit()
        c.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            with c:
                srcs = sorted(set(replace_sources))
                c.execute("CREATE TEMP TABLE IF NOT EXISTS _merge_src (source TEXT PRIMARY KEY)")
                c.execute("DELETE FROM _merge_src")
                c.executemany("INSERT OR IGNORE INTO _merge_src VALUES (?)", [(s,) for s in srcs])
                old = "SELECT id FROM main.documents WHERE source IN (SELECT source FROM _merge_src)"
                c.execute(f"DELETE FROM main.passages WHERE doc_id IN ({old})")
                c.execute(f"DELETE FROM main.failures WHERE doc_id IN ({old})")
                c.execute("DELETE FROM main.documents WHERE source IN (SELECT source FROM _merge_src)")
                c.execute("DELETE FROM main.passages WHERE doc_id IN (SELECT id FROM other.documents)")
                c.execute("INSERT OR REPLACE INTO main.documents SELECT * FROM other.documents")
                c.execute("INSERT OR REPLACE INTO main.passages SELECT * FROM other.passages")
                c.execute("INSERT OR REPLACE INTO main.failures SELECT * FROM other.failures")
                # a document that is ok now clears an older failure row of the same document
                c.execute("DELETE FROM main.failures WHERE doc_id IN "
                          "(SELECT id FROM other.documents WHERE status='ok')")
                n = {t: c.execute(f"SELECT COUNT(*) FROM other.{t}").fetchone()[0]
                     for t in ("documents", "passages", "failures")}
        finally:
            c.execute("DETACH DATABASE other")
        return n

    def delete_sources(self, sources: Iterable[str]) -> None:
        """Remove every row that came from these input paths (inputs that are gone)."""
        c = self.conn
        with c:
            for s in sorted(set(sources)):
                ids = "SELECT id FROM documents WHERE source=?"
                c.execute(f"DELETE FROM passages WHERE doc_id IN ({ids})", (s,))
                c.execute(f"DELETE FROM failures WHERE doc_id IN ({ids})", (s,))
                c.execute("DELETE FROM documents WHERE source=?", (s,))

    # candidates -----------------------------------------------------------
    def replace_candidates(self, rows: list[dict[str, Any]], run_id: str) -> None:
        c = self.conn
        c.execute("DELETE FROM candidates")
        c.executemany(
            "INSERT INTO candidates(site, rank, score, components, country, cee, known, known_name, n_documents,"
            " languages, tags, evidence, name, run_id, explanations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(r["site"], r["rank"], r["score"], _j(r["components"]), r["country"], int(r["cee"]),
              int(r["known"]), r.get("known_name"), r["n_documents"], _j(r.get("languages", [])),
              _j(r["tags"]), _j(r["evidence"]), r.get("name"), run_id, _j(r.get("explanations", {})))
             for r in rows],
        )
        c.commit()

    def candidates(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM candidates ORDER BY rank").fetchall()
        return [_decode_row(dict(r)) for r in rows]

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]


_JSON_COLS = {"lang_scores", "lang_mix", "labels", "tags", "meta", "components", "languages",
              "evidence", "counts", "timings", "config", "manifest", "explanations"}


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    for k in _JSON_COLS & row.keys():
        if isinstance(row[k], str):
            row[k] = json.loads(row[k])
    return row
