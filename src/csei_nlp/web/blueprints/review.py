"""The analysts' screens: ranking, candidate (with its decision form), document, overview, decisions.

Why a blueprint of its own: these routes read the scan store through
:class:`csei_nlp.store.catalog.Catalog` and are open to analysts and admins only.
"""
from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...annotate import decisions as training
from ...store.appdb import DECISIONS
from ...store.catalog import SORTS, Filters
from .. import charts
from ..common import ANALYSTS, catalog, current_user, roles, state

bp = Blueprint("review", __name__)

BULK_MAX = 1000  # candidates one bulk decision may cover

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
    # links keep only the parameters the page understands: an unknown one never reaches url_for
    f, sort, args = review_context(latest)
    cat = catalog()
    rows, nxt = cat.page(f, sort, request.args.get("after", ""), state().cfg.web.page_size)
    return render_template("ranking.html", rows=rows, next_cursor=nxt, f=f, sort=sort, sorts=SORTS,
                           total=cat.count(f), facets=cat.facets(), latest=latest, args=args,
                           first_page=not request.args.get("after"), ctx_query=urlencode(args, doseq=True),
                           bulk_max=BULK_MAX)


def filters_from_request(latest: dict[str, dict[str, Any]]) -> Filters:
    """The ranking's filters from the query string, with the decision filter resolved to sites."""
    return review_context(latest)[0]


@bp.route("/candidate/<path:site>")
@roles(*ANALYSTS)
def candidate(site: str) -> Any:
    cat = catalog()
    c = _found(cat.candidate(site), _no_candidate(site))
    latest = state().db.latest_decisions()
    f, sort, ctx = review_context(latest)
    prev_site, next_site = cat.neighbours(f, sort, site)
    return render_template("candidate.html", c=c, docs=cat.documents_of(site), help=COMPONENT_HELP,
                           cues=cat.cue_evidence(site),
                           weights=state().cfg.score.weights(), history=state().db.decision_history(site),
                           decisions=DECISIONS, run=cat.run_info(), ctx=ctx, prev_site=prev_site,
                           next_site=next_site,
                           ctx_query=urlencode(ctx, doseq=True))


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
    # on to the next candidate in the order the analyst is working through (the ranking's filters and sort)
    f, sort, ctx = review_context(st.db.latest_decisions())
    _, next_site = cat.neighbours(f, sort, site)
    if request.form.get("stay") or next_site is None:
        if next_site is None:
            flash("That was the last candidate with these filters.")
        return redirect(url_for("review.candidate", site=site, **ctx))
    return redirect(url_for("review.candidate", site=next_site, **ctx))


@bp.route("/ranking/decide", methods=["POST"])
@roles(*ANALYSTS)
def decide_all() -> Any:
    """One decision, with one note, for every candidate the current filters select (at most BULK_MAX)."""
    st, cat = state(), catalog()
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, description="Choose accept, reject or unsure.")
    f, sort, ctx = review_context(st.db.latest_decisions())
    expected = request.form.get("expected", type=int)
    sites = [r["site"] for r in cat.iter_filtered(f, sort)]
    if expected is None or expected != len(sites):
        flash(f"The selection changed ({len(sites)} candidates now, {expected} when you chose); nothing was saved.")
        return redirect(url_for("review.ranking", **ctx))
    if len(sites) > BULK_MAX:
        abort(400, description=f"{len(sites)} candidates selected; bulk decisions take at most {BULK_MAX}. "
                               f"Narrow the filters.")
    run = cat.run_info()
    note = request.form.get("note", "").strip()
    for s in sites:
        st.db.add_decision(s, decision, note, current_user(), run["model_version"], run["run_id"])
    training.write_training_file(st.db, st.store_path, st.annotations_dir)
    flash(f"Decision '{decision}' saved for {len(sites)} candidates.")
    return redirect(url_for("review.ranking", **ctx))


def review_context(latest: dict[str, dict[str, Any]]) -> tuple[Filters, str, dict[str, Any]]:
    """The filters and sort the analyst works under, and the parameters that carry them on.

    On a page they are the query string; a decision form carries that query
    string in its hidden ``ctx`` field (its own ``decision`` field is the answer,
    not the filter).
    """
    source = MultiDict(parse_qsl(request.form.get("ctx", ""))) if request.method == "POST" else request.args
    f = Filters.from_args(source)
    if f.decision == "pending":
        f.except_sites = sorted(latest)
    elif f.decision:
        f.only_sites = sorted(s for s, d in latest.items() if d["decision"] == f.decision)
    sort = source.get("sort", "rank")
    sort = sort if sort in SORTS else "rank"
    ctx = {**f.to_args(), **({"sort": sort} if sort != "rank" else {})}
    return f, sort, ctx


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
    # every bar links to the ranking filtered to what it counts
    rank = lambda **kw: url_for("review.ranking", **kw)  # noqa: E731
    countries = [(c, n) for c, n, _ in ov["by_country"]]
    nbins = len(ov["score_bins"])
    mixes = {f: sorted(m.items(), key=lambda kv: -kv[1]) for f, m in ov["label_mix"].items()}
    review = [("pending", pending)] + list(reviewed.items())
    return render_template(
        "overview.html", ov=ov,
        country_svg=charts.bars(countries, "Candidates by country",
                                links=[rank(country=c) if c and c != "?" else None for c, _ in countries]),
        score_svg=charts.histogram(ov["score_bins"], "Score distribution",
                                   links=[rank(min_score=f"{i / nbins:g}", max_score=f"{(i + 1) / nbins:g}")
                                          for i in range(nbins)]),
        mix_svg={f: charts.bars(m, f"Tags: {f}", links=[rank(tag=f"{f}:{lab}") for lab, _ in m])
                 for f, m in mixes.items()},
        review_svg=charts.bars(review, "Reviewed vs pending", links=[rank(decision=k) for k, _ in review]))


@bp.route("/decisions")
@roles(*ANALYSTS)
def decisions_page() -> Any:
    return render_template("decisions.html", rows=list(reversed(state().db.all_decisions()))[:500])
