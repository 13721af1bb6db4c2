"""The analysts' screens: ranking, candidate (with its decision form), document, overview, decisions.

Why a blueprint of its own: these routes read the scan store through
:class:`csei_nlp.store.catalog.Catalog` and are open to analysts and admins only.
"""
from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ...annotate import decisions as training
from ...store.appdb import DECISIONS
from ...store.catalog import SORTS, Filters
from .. import charts
from ..common import ANALYSTS, catalog, current_user, roles, state

bp = Blueprint("review", __name__)

T = TypeVar("T")

COMPONENT_HELP = {
    "classifier": "How CSEI-like the site's best page is, per the document model.",
    "criteria": "How many of the four inclusion criteria (cooperating group, member governance, "
                "geographic proximity, interconnection) the site shows.",
    "helix": "How many kinds of actors cooperate, with a social-economy core.",
    "social_ecological": "How strong the social and ecological innovation dimensions are.",
    "self_designation": "Whether the site calls itself a cluster, hub, network, partnership ...",
    "territorial": "Whether it is anchored in a place (territorial cues, geographic proximity).",
    "known_similarity": "How close its text is to the GECES report's known cases.",
}


def _found(value: T | None, description: str) -> T:
    """``value``, or a 404 page saying ``description`` when there is none."""
    if value is None:
        abort(404, description=description)
    return value


def _no_candidate(site: str) -> str:
    return f"No candidate {site!r} in this scan."


@bp.route("/ranking")
@roles(*ANALYSTS)
def ranking() -> Any:
    latest = state().db.latest_decisions()
    f = filters_from_request(latest)
    sort = request.args.get("sort", "rank")
    sort = sort if sort in SORTS else "rank"
    cat = catalog()
    rows, nxt = cat.page(f, sort, request.args.get("after", ""), state().cfg.web.page_size)
    # links keep only the parameters the page understands: an unknown one never reaches url_for
    args = {**f.to_args(), **({"sort": sort} if sort != "rank" else {})}
    return render_template("ranking.html", rows=rows, next_cursor=nxt, f=f, sort=sort, sorts=SORTS,
                           total=cat.count(f), facets=cat.facets(), latest=latest, args=args,
                           first_page=not request.args.get("after"))


def filters_from_request(latest: dict[str, dict[str, Any]]) -> Filters:
    """The ranking's filters from the query string, with the decision filter resolved to sites."""
    f = Filters.from_args(request.args)
    if f.decision == "pending":
        f.except_sites = sorted(latest)
    elif f.decision:
        f.only_sites = sorted(s for s, d in latest.items() if d["decision"] == f.decision)
    return f


@bp.route("/candidate/<path:site>")
@roles(*ANALYSTS)
def candidate(site: str) -> Any:
    cat = catalog()
    c = _found(cat.candidate(site), _no_candidate(site))
    return render_template("candidate.html", c=c, docs=cat.documents_of(site), help=COMPONENT_HELP,
                           cues=cat.cue_evidence(site),
                           weights=state().cfg.score.weights(), history=state().db.decision_history(site),
                           decisions=DECISIONS, run=cat.run_info())


@bp.route("/candidate/<path:site>/decision", methods=["POST"])
@roles(*ANALYSTS)
def decide(site: str) -> Any:
    cat = catalog()
    _found(cat.candidate(site), _no_candidate(site))
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, description="Choose accept, reject or unsure.")
    run = cat.run_info()
    st = state()
    st.db.add_decision(site, decision, request.form.get("note", "").strip(), current_user(),
                       run["model_version"], run["run_id"])
    # decisions are training data at once: `csei train` reads the file this refreshes
    training.write_training_file(st.db, st.store_path, st.annotations_dir)
    flash(f"Decision '{decision}' saved for {site}.")
    return redirect(url_for("review.candidate", site=site))


@bp.route("/document/<doc_id>")
@roles(*ANALYSTS)
def document(doc_id: str) -> Any:
    d = _found(catalog().document(doc_id), "No such document in this scan.")
    focus = request.args.get("p", type=int)
    return render_template("document.html", d=d, passages=catalog().passages(doc_id), focus=focus)


@bp.route("/overview")
@roles(*ANALYSTS)
def overview() -> Any:
    ov = catalog().overview()
    latest = state().db.latest_decisions()
    reviewed = {k: sum(1 for d in latest.values() if d["decision"] == k) for k in DECISIONS}
    pending = max(0, ov["total"] - len(latest))
    return render_template("overview.html", ov=ov,
                           country_svg=charts.bars([(c, n) for c, n, _ in ov["by_country"]], "Candidates by country"),
                           score_svg=charts.histogram(ov["score_bins"], "Score distribution"),
                           mix_svg={f: charts.bars(sorted(m.items(), key=lambda kv: -kv[1]), f"Tags: {f}")
                                    for f, m in ov["label_mix"].items()},
                           review_svg=charts.bars([("pending", pending)] + list(reviewed.items()),
                                                  "Reviewed vs pending"))


@bp.route("/decisions")
@roles(*ANALYSTS)
def decisions_page() -> Any:
    return render_template("decisions.html", rows=list(reversed(state().db.all_decisions()))[:500])
