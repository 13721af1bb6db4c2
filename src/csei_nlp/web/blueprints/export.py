"""Downloads for analysts (ranking, decisions, annotations) and the training-file export.

Why a blueprint of its own: these routes answer with files, not pages, and
neutralise spreadsheet formulas in crawled strings (CSV injection).  What the
training file holds is decided in :mod:`csei_nlp.annotate.decisions`.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for

from ...annotate import decisions as training, formats, log as annolog
from ...report.csvsafe import csv_text
from ...store.catalog import SORTS
from ...taxonomy import FAMILIES
from ..common import ANALYSTS, catalog, roles, state
from .review import filters_from_request

bp = Blueprint("export", __name__)

DECISION_FIELDS = ["id", "site", "decision", "note", "user_name", "created", "model_version", "run_id"]


def _csv_response(rows: list[dict[str, Any]], fields: list[str], name: str) -> Response:
    # formulas in crawled strings are neutralised by the shared writer (CSV injection)
    text = csv_text(rows, fields, lineterminator="\r\n", extrasaction="ignore")
    return Response(text, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _json_response(data: Any, name: str) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _ranking_row(c: dict[str, Any]) -> dict[str, Any]:
    return {"rank": c["rank"], "site": c["site"], "name": c.get("name") or "", "score": c["score"],
            "country": c.get("country") or "", "cee": int(c["cee"]), "known": int(c["known"]),
            "known_name": c.get("known_name") or "", "n_documents": c["n_documents"],
            "languages": " ".join(c.get("languages") or []),
            **{f"tags_{f}": " ".join((c.get("tags") or {}).get(f, [])) for f in FAMILIES},
            **{f"c_{k}": v for k, v in (c.get("components") or {}).items()}}


@bp.route("/export/decisions.<fmt>")
@roles(*ANALYSTS)
def export_decisions(fmt: str) -> Any:
    rows = state().db.all_decisions()
    if fmt == "csv":
        return _csv_response(rows, DECISION_FIELDS, "decisions.csv")
    if fmt == "json":
        return _json_response([{k: r[k] for k in DECISION_FIELDS} for r in rows], "decisions.json")
    abort(404)


@bp.route("/export/ranking.<fmt>")
@roles(*ANALYSTS)
def export_ranking(fmt: str) -> Any:
    if fmt not in ("csv", "json"):
        abort(404)
    latest = state().db.latest_decisions()
    f = filters_from_request(latest)
    sort = request.args.get("sort", "rank")
    rows = list(catalog().iter_filtered(f, sort if sort in SORTS else "rank"))
    for r in rows:
        r["decision"] = (latest.get(r["site"]) or {}).get("decision", "")
    if fmt == "csv":
        flat = [{**_ranking_row(r), "decision": r["decision"]} for r in rows]
        fields = list(flat[0]) if flat else ["rank", "site", "name", "score", "decision"]
        return _csv_response(flat, fields, "ranking.csv")
    if fmt == "json":
        return _json_response(rows, "ranking.json")
    abort(404)


@bp.route("/export/training", methods=["POST"])
@roles(*ANALYSTS)
def export_training() -> Any:
    st = state()
    path, n = training.write_training_file(st.db, st.store_path, st.annotations_dir)
    flash(f"Wrote {n} document records to {path.name} for `csei train`.")
    return redirect(url_for("review.decisions_page"))


@bp.route("/export/annotations.<fmt>")
@roles(*ANALYSTS)
def export_annotations(fmt: str) -> Any:
    recs = annolog.current_labels(state().annotations_dir)  # corrected labels replace what they correct
    if fmt == "labelstudio.json":
        return _json_response(formats.to_label_studio(recs), "annotations-labelstudio.json")
    if fmt == "prodigy.jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in formats.to_prodigy(recs))
        return Response(body, mimetype="application/jsonl",
                        headers={"Content-Disposition": 'attachment; filename="annotations.jsonl"'})
    abort(404)
