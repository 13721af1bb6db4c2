"""Analysts' review decisions as document-level training data.

Why here and not in the web layer: turning the latest accept/reject of each
site into training records is annotation logic that ``csei train`` depends on
(it reads the file through :func:`csei_nlp.train.feedback.decision_docs`); the
review app only triggers it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..store.appdb import AppDB
from ..store.catalog import Catalog
from ..types import source_ref

DECISIONS_FILE = "documents-decisions.jsonl"  # the name train.feedback reads


def training_records(db: AppDB, store_path: Path) -> list[dict[str, Any]]:
    """Analysts' latest accept/reject per site, expanded to the site's documents.

    ``unsure`` is not a label and is left out.  One record per document, in the
    shape ``csei train`` reads from ``annotations/documents-decisions.jsonl``.
    """
    latest = db.latest_decisions()
    cat = Catalog(store_path)
    out = []
    try:
        for site, d in sorted(latest.items()):
            if d["decision"] not in ("accept", "reject"):
                continue
            for doc in cat.documents_of(site):
                if doc["dup_of"]:
                    continue
                full = cat.document(doc["id"]) or {}
                out.append({
                    "id": f"decision:{doc['id']}", "doc_id": doc["id"], "site": site, "url": doc["url"],
                    "lang": doc["lang"], "title": doc["title"],
                    "source": source_ref(doc["source"], doc["offset"]),
                    "text": full.get("text") or "",
                    "doc_label": {"is_csei": 1 if d["decision"] == "accept" else 0,
                                  "kind": "csei" if d["decision"] == "accept" else "analyst_reject"},
                    "decision": d["decision"], "note": d["note"], "annotator": d["user_name"],
                    "time": d["created"], "model_version": d["model_version"], "run_id": d["run_id"],
                    "split": None,
                })
    finally:
        cat.close()
    return out


def write_training_file(db: AppDB, store_path: Path, annotations_dir: Path) -> tuple[Path, int]:
    """Rewrite ``annotations/documents-decisions.jsonl`` (derived; written atomically).

    The app calls this after every decision, so ``csei train`` sees decisions
    without anyone exporting them.  Reading the decisions and writing the file
    happen under one lock: of two requests deciding at once, the one that
    writes last has also read last, so no decision is missing from the file.
    """
    import fcntl

    path = annotations_dir / DECISIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(DECISIONS_FILE + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            recs = training_records(db, store_path)
            atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                                            for r in recs))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path, len(recs)
