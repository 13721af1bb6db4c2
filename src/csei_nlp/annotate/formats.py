"""Annotation exchange formats: Label Studio JSON and Prodigy/Argilla-style JSONL.

The app's annotation record (one per annotator and passage; see log.py) has
``id, passage_id, doc_id, text, lang, source, url, labels, annotator, time,
model_version, doc_label``.  ``to_label_studio`` groups records into one task
per passage with one annotation per annotator, labels as ``choices`` results
(one per family); ``to_prodigy`` writes one line per record with labels as
``accept`` option ids ``family:label``.  Both keep every field, so importing an
export gives back exactly the records that went in (tested).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import CseiError
from ..taxonomy import FAMILIES, LABELS

RECORD_KEYS = ("id", "passage_id", "doc_id", "text", "lang", "source", "url", "labels", "annotator", "time",
               "model_version", "doc_label")


class FormatError(CseiError):
    """An import file is not in the expected format; the message names the place."""


def canonical(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: rec.get(k) for k in RECORD_KEYS}
    out["labels"] = {f: sorted(set((rec.get("labels") or {}).get(f, []))) for f in FAMILIES}
    return out


# --- Label Studio --------------------------------------------------------------

def to_label_studio(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for rec in map(canonical, records):
        task = tasks.setdefault(rec["passage_id"], {
            "id": len(tasks) + 1,
            "data": {"text": rec["text"], "passage_id": rec["passage_id"], "doc_id": rec["doc_id"],
                     "lang": rec["lang"], "source": rec["source"], "url": rec["url"]},
            "annotations": [],
        })
        task["annotations"].append({
            "id": len(task["annotations"]) + 1,
            "completed_by": rec["annotator"],
            "created_at": rec["time"],
            "result": [{"from_name": fam, "to_name": "text", "type": "choices",
                        "value": {"choices": rec["labels"][fam]}} for fam in FAMILIES],
            "meta": {"csei_id": rec["id"], "model_version": rec["model_version"], "doc_label": rec["doc_label"]},
        })
    return list(tasks.values())


def from_label_studio(tasks: Any, where: str = "Label Studio export") -> list[dict[str, Any]]:
    if not isinstance(tasks, list):
        raise FormatError(f"{where}: expected a JSON list of tasks")
    out = []
    for t_i, task in enumerate(tasks):
        try:
            data = task["data"]
            for ann in task.get("annotations", []):
                labels = {f: [] for f in FAMILIES}
                for res in ann.get("result", []):
                    fam = res.get("from_name")
                    if fam in FAMILIES and res.get("type") == "choices":
                        labels[fam] = [c for c in res["value"]["choices"]]
                _check_labels(labels, f"{where}: task {t_i + 1}")
                meta = ann.get("meta") or {}
                out.append(canonical({
                    "id": meta.get("csei_id") or f"ls-{task.get('id', t_i + 1)}-{ann.get('id')}",
                    "passage_id": data.get("passage_id") or f"ls-task-{task.get('id', t_i + 1)}",
                    "doc_id": data.get("doc_id") or "", "text": data["text"], "lang": data.get("lang") or "und",
                    "source": data.get("source") or "label-studio", "url": data.get("url"),
                    "labels": labels, "annotator": str(ann.get("completed_by") or "label-studio"),
                    "time": ann.get("created_at"), "model_version": meta.get("model_version") or "",
                    "doc_label": meta.get("doc_label"),
                }))
        except (KeyError, TypeError, AttributeError) as exc:
            raise FormatError(f"{where}: task {t_i + 1} is malformed (missing {exc})") from None
    return out


# --- Prodigy / Argilla-style JSONL ------------------------------------------------

def to_prodigy(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    options = [{"id": f"{LABELS[l].family}:{l}", "text": l} for l in LABELS]
    out = []
    for rec in map(canonical, records):
        ts = rec["time"]
        out.append({
            "text": rec["text"],
            "meta": {"passage_id": rec["passage_id"], "doc_id": rec["doc_id"], "lang": rec["lang"],
                     "source": rec["source"], "url": rec["url"], "model_version": rec["model_version"]},
            "options": options,
            "accept": [f"{f}:{l}" for f in FAMILIES for l in rec["labels"][f]],
            "answer": "accept",
            "_annotator_id": rec["annotator"],
            "_timestamp": int(datetime.fromisoformat(ts).timestamp()) if ts else None,
            "csei": {"id": rec["id"], "time": ts, "doc_label": rec["doc_label"]},
        })
    return out


def from_prodigy(lines: Iterable[dict[str, Any]], where: str = "JSONL") -> list[dict[str, Any]]:
    out = []
    for n, obj in enumerate(lines, 1):
        if obj.get("answer", "accept") != "accept":
            continue  # rejected/ignored examples carry no labels
        try:
            labels: dict[str, list[str]] = {f: [] for f in FAMILIES}
            for opt in obj.get("accept", []):
                fam, _, lab = str(opt).partition(":")
                if fam not in FAMILIES:
                    raise FormatError(f"{where}:{n}: option {opt!r} is not 'family:label'")
                labels[fam].append(lab)
            _check_labels(labels, f"{where}:{n}")
            meta, extra = obj.get("meta") or {}, obj.get("csei") or {}
            ts = extra.get("time")
            if ts is None and obj.get("_timestamp") is not None:
                ts = datetime.fromtimestamp(int(obj["_timestamp"])).astimezone().isoformat()
            out.append(canonical({
                "id": extra.get("id") or f"prodigy-{n}", "passage_id": meta.get("passage_id") or f"prodigy-{n}",
                "doc_id": meta.get("doc_id") or "", "text": obj["text"], "lang": meta.get("lang") or "und",
                "source": meta.get("source") or "prodigy", "url": meta.get("url"), "labels": labels,
                "annotator": str(obj.get("_annotator_id") or "prodigy"), "time": ts,
                "model_version": meta.get("model_version") or "", "doc_label": extra.get("doc_label"),
            }))
        except KeyError as exc:
            raise FormatError(f"{where}:{n}: missing {exc}") from None
    return out


def _check_labels(labels: dict[str, list[str]], where: str) -> None:
    for fam, labs in labels.items():
        bad = [l for l in labs if l not in FAMILIES[fam]]
        if bad:
            raise FormatError(f"{where}: unknown {fam} label(s) {bad}")


def write(records: list[dict[str, Any]], path: str | Path, fmt: str) -> None:
    p = Path(path)
    if fmt == "labelstudio":
        p.write_text(json.dumps(to_label_studio(records), ensure_ascii=False, indent=1), "utf-8")
    elif fmt == "prodigy":
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in to_prodigy(records)), "utf-8")
    else:
        raise CseiError(f"unknown format {fmt!r}; use labelstudio or prodigy")


def read(path: str | Path, fmt: str) -> list[dict[str, Any]]:
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{p}: cannot read: {exc}") from None
    try:
        if fmt == "labelstudio":
            return from_label_studio(json.loads(text), str(p))
        if fmt == "prodigy":
            return from_prodigy((json.loads(l) for l in text.splitlines() if l.strip()), str(p))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    raise CseiError(f"unknown format {fmt!r}; use labelstudio or prodigy")
