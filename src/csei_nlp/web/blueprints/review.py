"""The analysts' screens: ranking, candidate (with its decision form), document, overview, decisions.

Why a blueprint of its own: these routes read the scan store through
:class:`csei_nlp.store.catalog.Catalog` and are open to analysts and admins only.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...annotate import decisions as training
from ...report import charts
from ...store.appdb import DECISIONS
from ...store.catalog import SORTS, Filters
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
    size = state().cfg.web.page_size
    total = cat.count(f)  # remembered per store state and filters: cheap at 100k candidates
    last = max(1, -(-total // size))
    at = request.args.get("at", "")
    number = _page_number(request.args.get("page"), last, f.problems)
    if at and "page" not in request.args:  # "back to the ranking" from a candidate: the page around it
        pos = cat.position(f, sort, at)
        number = min(last, pos // size + 1) if pos is not None else number
    rows = cat.page_at(f, sort, (number - 1) * size, size)
    pager = Pager.build(number, last, total, len(rows), size, lambda n: url_for(
        "review.ranking", **({"page": n} if n > 1 else {}), **args))
    return render_template("ranking.html", rows=rows, pager=pager, f=f, sort=sort, sorts=SORTS,
                           total=total, facets=cat.facets(), latest=latest, args=args, at=at,
                           ctx_query=urlencode(args, doseq=True), bulk_max=BULK_MAX)


#: page numbers shown either side of the current one (then an ellipsis, then the first or last page)
PAGE_WINDOW = 2


def _page_number(raw: str | None, last: int, problems: list[str]) -> int:
    """The ``page`` parameter as a page between 1 and ``last``; what was wrong with it goes to ``problems``.

    Why clamp rather than refuse: like the filters' odd values, a stale or
    hand-edited link still shows a page, and the page says how it was read.
    """
    text = (raw or "").strip()
    if not text:
        return 1
    if not re.fullmatch(r"[0-9]+", text, re.ASCII):
        problems.append(f"Page {text[:20]!r} is not a page number; showing page 1.")
        return 1
    n = int(text) if len(text) <= 18 else last + 1  # beyond any page (and int() refuses very long strings)
    if n < 1:
        problems.append(f"There is no page {n}; showing page 1.")
        return 1
    if n > last:
        problems.append(f"There is no page {text[:20]} with these filters; showing the last page, {last}.")
        return last
    return n


@dataclass(frozen=True)
class Pager:
    """The ranking's page links: first, previous, a window of numbers with gaps, next, last, and what is shown."""

    page: int
    last: int
    total: int
    first_row: int  # 1-based, 0 when nothing is shown
    last_row: int
    links: list[tuple[int | None, str]]  # (page number or None for a gap, its URL)
    first_url: str | None
    prev_url: str | None
    next_url: str | None
    last_url: str | None

    @classmethod
    def build(cls, page: int, last: int, total: int, shown: int, size: int, url: Callable[[int], str]) -> "Pager":
        numbers = [n for n in range(page - PAGE_WINDOW, page + PAGE_WINDOW + 1) if 1 <= n <= last]
        # the first and last pages always show; a gap of one page shows that page instead of "..."
        if numbers[0] > 1:
            numbers = [1, *([None] if numbers[0] > 3 else [2] if numbers[0] == 3 else []), *numbers]
        if numbers[-1] < last:
            numbers = [*numbers, *([None] if numbers[-1] < last - 2 else [last - 1] if numbers[-1] == last - 2
                                   else []), last]
        first_row = (page - 1) * size + 1 if shown else 0
        return cls(page=page, last=last, total=total, first_row=first_row,
                   last_row=first_row + shown - 1 if shown else 0,
                   links=[(n, url(n) if n else "") for n in numbers],
                   first_url=url(1) if page > 1 else None, prev_url=url(page - 1) if page > 1 else None,
                   next_url=url(page + 1) if page < last else None, last_url=url(last) if page < last else None)


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


def _candidate_page(site: str) -> str:
    """The candidate page a decision form was on (its working order from the form's ``ctx``)."""
    return url_for("review.candidate", site=site, **review_context({})[2])


def _ranking_page() -> str:
    """The ranking page a bulk-decision form was on."""
    return url_for("review.ranking", **review_context({})[2])


@bp.route("/candidate/<path:site>/decision", methods=["POST"])
@roles(*ANALYSTS, form_page=_candidate_page)
def decide(site: str) -> Any:
    cat = catalog()
    _found(cat.candidate(site), _no_candidate(site))
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, description="Choose accept, reject or unsure.")
    run = cat.run_info()
    st = state()
    did = st.db.add_decision(site, decision, request.form.get("note", "").strip(), current_user(),
                             run["model_version"], run["run_id"])
    # decisions are training data at once: one line appended to the file `csei train` reads
    training.append_decisions(st.db, st.store_path, st.annotations_dir, [did])
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
@roles(*ANALYSTS, form_page=_ranking_page)
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
    ids = [st.db.add_decision(s, decision, note, current_user(), run["model_version"], run["run_id"])
           for s in sites]
    training.append_decisions(st.db, st.store_path, st.annotations_dir, ids)
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
