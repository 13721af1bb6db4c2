"""The append-only annotation log: ``annotations/app/passages-<date>.jsonl``.

Every saved label set, every undo (as a ``retract`` record naming what it
retracts), every flag and every adjudication becomes one new line; no line is
ever rewritten.  An annotator who corrects their labels of a passage (the
app's "My labels") adds a new ``label`` record (``corrects`` names the one it
replaces): an annotator's latest live record of a passage is their answer.
Writers on several threads or processes take an exclusive ``flock`` on the
file for the duration of one line, so lines never interleave.

Records carry the SCHEMA.md passage fields (``id``, ``doc_id``, ``text``,
``lang``, ``source``, ``labels``, ``annotator``, ``split``) plus the event
fields ``event``, ``passage_id``, ``time``, ``model_version``, ``url`` and
``retracts``.  ``resolve()`` turns the log into one record per passage, which
is what training reads (see docs/web.md).  The log lives outside
``annotations/passages/`` because raw events (two annotators on one passage,
retractions) are not yet training records.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..fsutil import locked_append
from ..taxonomy import FAMILIES

LOG_SUBDIR = "app"


def log_dir(annotations_dir: str | Path) -> Path:
    return Path(annotations_dir) / LOG_SUBDIR


def append(annotations_dir: str | Path, record: dict[str, Any]) -> Path:
    """Append one record as one line, under an exclusive lock; returns the file."""
    d = log_dir(annotations_dir)
    d.mkdir(parents=True, exist_ok=True)
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    path = d / f"passages-{day}.jsonl"
    locked_append(path, (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    return path


def read(annotations_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every record of the log, oldest file first; a damaged line is reported, not fatal."""
    for path in sorted(log_dir(annotations_dir).glob("passages-*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    yield {"event": "damaged", "where": f"{path}:{n}"}
                    continue
                rec["_where"] = f"{path}:{n}"
                yield rec


def current_labels(annotations_dir: str | Path) -> list[dict[str, Any]]:
    """Each annotator's current ``label`` record per passage, oldest first: records no retract names,
    and of an annotator's records of one passage only the latest (a correction replaces what it corrects).

    What exports hand on: one answer per annotator and passage, the one they stand by.
    """
    retracted = {r.get("retracts") for r in read(annotations_dir) if r.get("event") == "retract"}
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in read(annotations_dir):
        if r.get("event") == "label" and r["id"] not in retracted:
            key = (r["passage_id"], r["annotator"])
            latest.pop(key, None)  # re-insert: the dict keeps the order of each one's latest record
            latest[key] = r
    return list(latest.values())


def resolve(annotations_dir: str | Path) -> list[dict[str, Any]]:
    """One record per passage: the adjudicated labels if any, else agreed labels.

    Retracted records are dropped.  A passage with several annotators and no
    adjudication keeps its labels only where they agree (the union of labels every
    annotator gave); ``annotators`` lists them all and ``raw`` keeps each one's labels.
    """
    records: dict[str, dict[str, Any]] = {}
    retracted: set[str] = set()
    events = [r for r in read(annotations_dir) if r.get("event") != "damaged"]
    for r in events:
        if r.get("event") == "retract" and r.get("retracts"):
            retracted.add(r["retracts"])
    by_passage: dict[str, list[dict[str, Any]]] = {}
    for r in events:
        if r.get("event") in ("label", "adjudicate", "import") and r["id"] not in retracted:
            by_passage.setdefault(r["passage_id"], []).append(r)
    for pid, recs in by_passage.items():
        adj = [r for r in recs if r["event"] == "adjudicate"]
        raw = [r for r in recs if r["event"] != "adjudicate"]
        # one vote per annotator: their latest record (a correction comes after what it corrects)
        latest: dict[str, dict[str, Any]] = {}
        for r in raw:
            latest[r["annotator"]] = r
        if adj:
            labels, status = adj[-1]["labels"], "adjudicated"
        else:
            votes = list(latest.values())
            labels = {f: sorted(set.intersection(*(set(v["labels"].get(f, [])) for v in votes)))
                      for f in FAMILIES} if votes else {f: [] for f in FAMILIES}
            status = "single" if len(votes) == 1 else (
                "agreed" if all(v["labels"] == votes[0]["labels"] for v in votes) else "conflict")
        base = (adj or raw)[-1]
        records[pid] = {
            "id": f"app-{pid}", "passage_id": pid, "doc_id": base["doc_id"], "text": base["text"],
            "lang": base["lang"], "source": base["source"], "url": base.get("url"),
            "labels": {f: list(labels.get(f, [])) for f in FAMILIES},
            "doc_label": base.get("doc_label"), "annotator": ",".join(sorted(latest)) or base["annotator"],
            "annotators": sorted(latest), "status": status,
            "raw": {a: r["labels"] for a, r in sorted(latest.items())},
            "model_version": base.get("model_version", ""), "time": base.get("time"),
            "written_for_project": False, "split": None,
        }
    return [records[k] for k in sorted(records)]
