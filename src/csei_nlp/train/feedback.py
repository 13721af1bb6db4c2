"""Close the loop: what people did in ``csei serve`` becomes training data.

Two sources, both written by the review app:

- the annotation log (``annotations/app/passages-*.jsonl``), resolved by
  :func:`csei_nlp.annotate.log.resolve` into one record per passage
  (adjudicated, agreed, or a single annotator's labels);
- analysts' accept/reject decisions (``annotations/documents-decisions.jsonl``),
  one record per document of a decided site, for the candidate model.

New labels go to the *train* split only.  Dev and test stay what they were, so
the per-label change that ``csei train`` reports measures the effect of the
new labels, not a moved target.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .records import AnnotationError, DocRecord, PassageRecord

DECISIONS_FILE = "documents-decisions.jsonl"
UNLABELLED = "unlabelled"  # kind of app passages whose document has no candidate label


def app_passages(annotations_dir: str | Path) -> list[PassageRecord]:
    """Resolved annotations from the app log as training passages (split ``train``).

    Conflicting double annotations without adjudication keep only the labels
    every annotator gave (see ``resolve``); they are still used, since a
    missing label is the conservative reading.
    """
    from ..annotate.log import resolve

    out = []
    for r in resolve(annotations_dir):
        dl = r.get("doc_label") or {}
        out.append(PassageRecord(
            id=r["id"], doc_id=f"app:{r['doc_id']}", text=r["text"], lang=r["lang"] or "und",
            source=r.get("source") or "", labels={f: list(v) for f, v in r["labels"].items()},
            is_csei=int(dl.get("is_csei", 0)), kind=str(dl.get("kind") or UNLABELLED),
            annotator=r.get("annotator", ""), split="train", where=f"app log passage {r['passage_id']}",
        ))
    return out


def decision_docs(annotations_dir: str | Path) -> list[DocRecord]:
    """Analysts' decisions as document-level records (split ``train``), grouped by site.

    The file holds two kinds of line (see :mod:`csei_nlp.annotate.decisions`):
    ``decision`` lines the app appends, one per decision with the site's
    ``documents``, and plain document records ("Write training data", or a
    file written by hand).  Per site only its latest decision counts: the
    highest ``decision_id`` (records without one count as older than any
    with one, in file order), and within it the last record of each document.
    A decision without documents (``unsure``) leaves the site out.  Sites come
    out sorted, documents in the order written: an appended file and its
    compaction give the same records.
    """
    path = Path(annotations_dir) / DECISIONS_FILE
    if not path.is_file():
        return []
    # site -> (decision key, document id -> (record, where))
    latest: dict[str, tuple[int, dict[str, tuple[dict[str, Any], str]]]] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            r = json.loads(line)
            if r.get("event") == "decision":
                site, key = str(r["site"]), int(r["decision_id"])
                recs = {str(d.get("id") or f"decision:{n}:{i}"): d for i, d in enumerate(r["documents"])}
            else:
                site, key = str(r.get("site") or n), int(r.get("decision_id", -1))
                recs = {str(r.get("id") or f"decision:{n}"): r}
            for d in recs.values():
                d["doc_label"]["is_csei"], d["text"].strip()  # noqa: B018  (a record without them is damaged)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AnnotationError(f"{where}: not a decision record ({exc})") from None
        have = latest.get(site)
        if have is None or key > have[0] or (key == have[0] and r.get("event") == "decision"):
            # a newer decision, or the same one appended again (its line holds all of its documents)
            latest[site] = (key, {did: (d, where) for did, d in recs.items()})
        elif key == have[0]:  # one more document record of the same decision
            have[1].update((did, (d, where)) for did, d in recs.items())
    docs = []
    for site in sorted(latest):
        for doc_id, (r, where) in latest[site][1].items():
            if not r["text"].strip():
                continue
            label = r["doc_label"]
            docs.append(DocRecord(
                doc_id=doc_id, group=f"site:{site}",
                lang=r.get("lang") or "und", is_csei=int(label["is_csei"]), kind=str(label.get("kind") or ""),
                origin="decision", passages=[], split_hint="train",
                meta={"text": r["text"], "where": where},
            ))
    return docs


def load_cards(models_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every model card in ``models_dir`` by model name (unreadable cards are left out)."""
    cards = {}
    for p in sorted(Path(models_dir).glob("*.card.json")):
        try:
            cards[p.name[: -len(".card.json")]] = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            continue
    return cards


def metric_changes(before: dict[str, Any] | None, after: dict[str, Any],
                   split: str = "dev") -> list[dict[str, Any]]:
    """Per family and label: F1 on ``split`` before and after retraining.

    ``before`` and ``after`` map a model name to its card (``metrics[split]``);
    a label new in ``after`` has no "before".
    """
    rows = []
    for name, card in sorted(after.items()):
        new = (card.get("metrics") or {}).get(split) or {}
        old = ((before or {}).get(name, {}).get("metrics") or {}).get(split) or {}
        if "labels" in new:
            for label, m in new["labels"].items():
                was = (old.get("labels") or {}).get(label, {}).get("f1")
                rows.append({"model": name, "label": label, "before": was, "after": m.get("f1"),
                             "change": None if was is None or m.get("f1") is None else round(m["f1"] - was, 4)})
        for key in ("macro_f1", "roc_auc"):
            if key in new:
                was = old.get(key)
                rows.append({"model": name, "label": key, "before": was, "after": new[key],
                             "change": None if was is None else round(new[key] - was, 4)})
    return rows


def format_changes(rows: list[dict[str, Any]]) -> str:
    def f(x: Any) -> str:
        return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)

    lines = ["| model | label | dev F1 before | after | change |", "|---|---|---|---|---|"]
    for r in rows:
        ch = "–" if r["change"] is None else f"{r['change']:+.3f}"
        lines.append(f"| {r['model']} | {r['label']} | {f(r['before'])} | {f(r['after'])} | {ch} |")
    return "\n".join(lines)


def data_change(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> str:
    """One paragraph that says what the per-label changes can come from.

    Training is deterministic (the same data gives the same models and
    metrics; ``tests/train/test_training.py`` retrains in another process to
    check it), so there is no run-to-run noise to separate: with an unchanged
    data hash every change is zero, and otherwise the changes come from the
    data files named here.
    """
    def files(cards: dict[str, dict[str, Any]]) -> set[str]:
        return {f for c in cards.values() for f in c.get("data_files") or []}

    def data_hash(cards: dict[str, dict[str, Any]]) -> str:
        return next((str(c.get("training_data_hash")) for c in cards.values() if c.get("training_data_hash")), "?")

    if not before:
        return "No earlier models to compare with."
    old, new = data_hash(before), data_hash(after)
    if old == new:
        return (f"The training data did not change (hash {new[:12]}); training is deterministic, so the "
                f"models and metrics are the same as before.")
    added, removed = sorted(files(after) - files(before)), sorted(files(before) - files(after))
    parts = [f"The training data changed (hash {old[:12]} -> {new[:12]})"]
    if added:
        parts.append("new files: " + ", ".join(added))
    if removed:
        parts.append("files gone: " + ", ".join(removed))
    if not added and not removed:
        parts.append("the same files with edited or new records")
    return "; ".join(parts) + (". Training is deterministic (no run-to-run noise), so the changes below "
                               "come from these data changes.")
