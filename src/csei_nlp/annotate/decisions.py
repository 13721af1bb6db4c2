"""Analysts' review decisions as document-level training data.

Why here and not in the web layer: turning the latest accept/reject of each
site into training records is annotation logic that ``csei train`` depends on
(it reads the file through :func:`csei_nlp.train.feedback.decision_docs`); the
review app only triggers it.

``annotations/documents-decisions.jsonl`` is append-only on the request path:
each decision appends one ``decision`` line (:func:`append_decisions`) carrying
the site's document records, so a decision costs one locked, fsync-ed append
of that site's documents, not a rewrite of every decided site.  The file may
therefore hold several decisions of one site; the reader keeps, per site, the
decision with the highest ``decision_id`` (the database's order, which is
also the order of ``AppDB.latest_decisions``), and an ``unsure`` (no
documents) takes the site out.  "Write training data" compacts the file into
one document record per line for the latest decisions
(:func:`write_training_file`); both shapes read as the same training data.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text, exclusive_lock, locked_append
from ..store.appdb import AppDB
from ..store.catalog import Catalog
from ..types import source_ref

DECISIONS_FILE = "documents-decisions.jsonl"  # the name train.feedback reads
LOCK_SUFFIX = ".lock"  # beside the file: appends and the compaction's rename take it


def _site_records(cat: Catalog, d: dict[str, Any]) -> list[dict[str, Any]]:
    """The training records of one decision: one per non-duplicate document of its site; none for ``unsure``."""
    if d["decision"] not in ("accept", "reject"):
        return []
    out = []
    for doc in cat.documents_of(d["site"]):
        if doc["dup_of"]:
            continue
        full = cat.document(doc["id"]) or {}
        out.append({
            "id": f"decision:{doc['id']}", "doc_id": doc["id"], "site": d["site"], "url": doc["url"],
            "lang": doc["lang"], "title": doc["title"],
            "source": source_ref(doc["source"], doc["offset"]),
            "text": full.get("text") or "",
            "doc_label": {"is_csei": 1 if d["decision"] == "accept" else 0,
                          "kind": "csei" if d["decision"] == "accept" else "analyst_reject"},
            "decision": d["decision"], "decision_id": d["id"], "note": d["note"], "annotator": d["user_name"],
            "time": d["created"], "model_version": d["model_version"], "run_id": d["run_id"],
            "split": None,
        })
    return out


def training_records(db: AppDB, store_path: Path) -> list[dict[str, Any]]:
    """Analysts' latest accept/reject per site, expanded to the site's documents.

    ``unsure`` is not a label and is left out.  One record per document, in the
    shape ``csei train`` reads from ``annotations/documents-decisions.jsonl``.
    """
    latest = db.latest_decisions()
    cat = Catalog(store_path)
    try:
        return [r for _, d in sorted(latest.items()) for r in _site_records(cat, d)]
    finally:
        cat.close()


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def append_decisions(db: AppDB, store_path: Path, annotations_dir: Path, decision_ids: Iterable[int]) -> Path:
    """Append one ``decision`` line per decision (oldest first) to ``documents-decisions.jsonl``.

    The app calls this after saving decisions, so ``csei train`` sees them
    without anyone exporting them.  Every line is one self-contained decision
    (``decision_id``, ``site``, ``decision`` and its ``documents``, empty for
    ``unsure``); all of one call go out in one write under the file's lock,
    fsync-ed.  Two requests appending in either order give the same training
    data: the reader keeps each site's highest ``decision_id``.
    """
    rows = db.decisions_by_id(list(decision_ids))
    cat = Catalog(store_path)
    try:
        lines = "".join(_dumps({"event": "decision", "decision_id": d["id"], "site": d["site"],
                                "decision": d["decision"], "annotator": d["user_name"], "time": d["created"],
                                "documents": _site_records(cat, d)}) for d in rows)
    finally:
        cat.close()
    path = annotations_dir / DECISIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines:
        locked_append(path, lines.encode("utf-8"), lock=path.with_name(DECISIONS_FILE + LOCK_SUFFIX))
    return path


def write_training_file(db: AppDB, store_path: Path, annotations_dir: Path) -> tuple[Path, int]:
    """Compact ``annotations/documents-decisions.jsonl``: one record per document of each site's latest
    accept/reject (written atomically); returns the file and the number of records.

    "Write training data" on the Decisions page runs it; nothing on the
    request path of a decision does.  Reading the decisions and replacing the
    file happen under the lock appends take, so an append either lands
    before (and its decision is read here) or after (in the new file).
    """
    path = annotations_dir / DECISIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(path.with_name(DECISIONS_FILE + LOCK_SUFFIX)):
        recs = training_records(db, store_path)
        atomic_write_text(path, "".join(_dumps(r) for r in recs))
    return path, len(recs)
