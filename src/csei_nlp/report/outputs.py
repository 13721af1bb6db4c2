"""Everything a scan writes into its output folder, besides the SQLite store.

documents.jsonl   one line per input unit (ok, skipped and failed), no full text
documents.parquet the same rows and columns, typed (report/parquet.py)
failures.jsonl    one line per skipped or failed unit: source, status, reason, detail
candidates.csv    every ranked site, one column per score component (spreadsheet-friendly)
candidates.jsonl  the same with the full evidence
report.html       a self-contained page for analysts: the top candidates, charts over all (report/html.py)
run.json          the manifest: version, config, seeds, models, input hashes, counts, timings

Files are written to a temporary name and renamed, so a reader never sees a
half-written file.  The documents are streamed from the store into both
documents files at once, so memory does not grow with the crawl.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..config import ReportConfig
from ..fsutil import atomic_open, atomic_write_text
from ..store.sqlite import Store
from ..taxonomy import FAMILIES
from .csvsafe import csv_text
from .html import evidence_passages, render_report
from .parquet import DocumentsParquet

CSV_FIELDS_HEAD = ["rank", "site", "name", "score"]


def _jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def document_line(row: dict[str, Any]) -> dict[str, Any]:
    """The documents.jsonl record for one store row."""
    meta = row.get("meta") or {}
    return {
        "id": row["id"],
        "source": {"path": row["source"], "offset": row["offset"]},
        "url": row["url"], "site": row["site"], "media": row["media"],
        "status": row["status"], "reason": row["reason"] or None,
        "lang": row["lang"], "lang_scores": row["lang_scores"], "lang_mix": row["lang_mix"],
        "title": row["title"], "date": row["date"], "canonical_url": row["canonical_url"],
        "html_lang": row["html_lang"], "fetch_date": row["fetch_date"],
        "n_chars": row["n_chars"], "n_passages": row["n_passages"],
        "content_hash": row["content_hash"] or None, "dup_of": row["dup_of"],
        "near_dup_group": row["near_dup_group"],
        "labels": row["labels"], "tags": row["tags"],
        "candidate_prob": meta.get("candidate_prob"),
        "subject": page_subject(meta),
        "counts_for": meta.get("candidate"),
        "role": meta.get("role"),
        "mentioned_domains": [d for d, _ in meta.get("mentioned_domains") or []],
        "embedded": meta.get("embedded"),
        "not_embedded_reason": meta.get("not_embedded_reason"),
    }


def page_subject(meta: dict[str, Any]) -> dict[str, Any] | None:
    """What a page is about, from the page models: one organisation or a topic, and who wrote it."""
    from ..attach import role_of

    role = role_of(meta)
    if role == "unscored":
        return None
    return {"label": "topic" if role == "topic" else "organisation", "p_organisation": meta["subject_prob"],
            "voice": None if role == "topic" else role, "p_third_party": float(meta.get("third_party_prob") or 0.0)}


def candidate_csv_row(c: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {k: c[k] for k in CSV_FIELDS_HEAD}
    row.update(c["components"])
    row.update({"country": c["country"] or "", "cee": int(c["cee"]), "known": int(c["known"]),
                "known_name": c.get("known_name") or "", "n_documents": c["n_documents"],
                "languages": " ".join(c.get("languages", []))})
    for fam in FAMILIES:
        row[f"tags_{fam}"] = " ".join(c["tags"].get(fam, []))
    top = evidence_passages(c, 1)
    row["top_evidence"] = top[0]["text"][:300] if top else ""
    row["top_evidence_url"] = (top[0].get("url") or top[0].get("source") or "") if top else ""
    return row


def candidates_csv(cands: list[dict[str, Any]]) -> str:
    from ..rank import COMPONENTS

    fields = (CSV_FIELDS_HEAD + list(COMPONENTS) + ["country", "cee", "known", "known_name",
              "n_documents", "languages"] + [f"tags_{f}" for f in FAMILIES]
              + ["top_evidence", "top_evidence_url"])
    return csv_text((candidate_csv_row(c) for c in cands), fields)


def write_documents(store: Store, out: Path) -> int:
    """documents.jsonl and documents.parquet, row by row from the store; returns the number of rows."""
    n = 0
    with atomic_open(out / "documents.jsonl") as jf, atomic_open(out / "documents.parquet", "wb") as pf:
        table = DocumentsParquet(pf)
        for row in store.document_rows(status=None):
            line = document_line(row)
            jf.write(_jsonl([line]))
            table.add(line)
            n += 1
        table.close()
    return n


def write_outputs(store: Store, out: Path, manifest: dict[str, Any], cands: list[dict[str, Any]],
                  report: ReportConfig) -> None:
    """Every output file of a scan (the module docstring lists them); ``cands`` ranked, all of them."""
    write_documents(store, out)
    fails = [{"source": f["source"], "status": f["status"], "reason": f["reason"], "detail": f["detail"]}
             for f in store.failures()]
    atomic_write_text(out / "failures.jsonl", _jsonl(fails))
    atomic_write_text(out / "candidates.csv", candidates_csv(cands))
    atomic_write_text(out / "candidates.jsonl", _jsonl(cands))
    atomic_write_text(out / "report.html", render_report(cands, manifest, report))
    atomic_write_text(out / "run.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
