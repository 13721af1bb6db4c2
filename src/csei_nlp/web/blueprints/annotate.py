"""The annotators' labelling loop, their own past labels, the guidelines, and the agreement,
adjudication and flag screens.

Why a blueprint of its own: these routes drive :mod:`csei_nlp.annotate`
(queue, suggestions, progress, agreement); they only read the form and render the result.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ...annotate import agreement, progress, queue, suggest
from ..common import ANALYSTS, ANYONE, catalog, current_user, form_labels, roles, state

bp = Blueprint("annotate", __name__)

MIN_RELIABLE_N = 30  # below this many double-annotated passages the agreement page warns
MAX_CONFLICTS_SHOWN = 50
MY_LABELS_PAGE = 20  # passages per page of "My labels"


def _model_version() -> str:
    return catalog().run_info()["model_version"]


def _suggestions(p: dict[str, Any] | None, user: dict[str, Any],
                 withheld: str | None) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(whether this user wants the model's suggestions, those of passage ``p``: "family:label" ->
    probability and whether it is pre-ticked; empty when off, ``withheld`` (a double-annotated
    passage), or the passage has no probabilities)."""
    st = state()
    on = suggest.enabled(st.db, user["id"], st.cfg.annotate.suggestions)
    if not on or p is None or withheld:
        return on, {}
    return on, suggest.for_passage(p.get("labels"), suggest.thresholds(st.models_dir))


def _ticks(labels: dict[str, list[str]] | None) -> set[str]:
    return {f"{fam}:{lab}" for fam, labs in (labels or {}).items() for lab in labs}


@bp.route("/annotate")
@roles(*ANYONE)
def annotate() -> Any:
    st, user = state(), current_user()
    item = queue.next_item(st.db, st.store_path, user, st.params)
    p = queue.passage_with_context(st.store_path, item["passage_id"]) if item else None
    hist = progress.update_history(st.db, st.models_dir)
    withheld = suggest.withheld(bool(item["overlap"])) if item else None
    show, sugg = _suggestions(p, user, withheld)
    # after an undo the passage comes back with the answer that was undone, ready to correct
    previous = queue.retracted_labels(st.db, user["id"], item["passage_id"]) if item else None
    checked = _ticks(previous) if previous is not None else {t for t, s in sugg.items() if s["on"]}
    return render_template("annotate.html", item=item, p=p, stats=queue.stats(st.db, user),
                           hint=progress.stopping_hint(hist), checked=checked, restored=previous is not None,
                           goal=st.cfg.annotate.session_goal, show_suggestions=show, sugg=sugg, edit=None,
                           withheld=withheld, FLAG_REASONS=queue.FLAG_REASONS)


def _comment() -> str:
    return request.form.get("comment", "")


@bp.route("/annotate", methods=["POST"])
@roles(*ANYONE)
def annotate_post() -> Any:
    st = state()
    action = request.form.get("action", "label")
    pid = request.form.get("passage_id", "")
    if action not in queue.ACTIONS or not pid:
        abort(400, description="Unknown annotation action.")
    reason = request.form.get("reason") or None
    if action == "flag" and reason not in queue.FLAG_REASONS:
        flash("Choose why you flag the passage (bad text, not a passage, unsure), then press Flag again.")
        return redirect(url_for("annotate.annotate"))
    try:
        queue.record(st.db, st.store_path, st.annotations_dir, current_user(), pid, action,
                     form_labels(request.form), _model_version(), note=_comment(), reason=reason,
                     suggestions_shown=request.form.get("suggestions_shown") == "1",
                     thresholds=suggest.thresholds(st.models_dir))
    except queue.NotOffered:
        flash("That passage was not offered to you here (another tab or an old page), so nothing was saved. "
              "Here is your next one.")
    except LookupError:
        abort(404, description="That passage is no longer in the scan store.")
    else:
        if action in ("ignore", "flag"):
            flash(("Flagged" if action == "flag" else "Ignored") + " the passage: it left your queue "
                  "(U undoes it).")
    return redirect(url_for("annotate.annotate"))


@bp.route("/annotate/undo", methods=["POST"])
@roles(*ANYONE)
def annotate_undo() -> Any:
    st = state()
    last = queue.undo(st.db, st.store_path, st.annotations_dir, current_user(), _model_version())
    if last is None:
        flash("Nothing to undo.")
    elif last["action"] == "label" and last["target_id"] is not None:
        flash("Undid your last correction: the answer it replaced stands again (see My labels).")
    else:
        flash(f"Undid your last {last['action']}.")
    return redirect(url_for("annotate.annotate"))


@bp.route("/annotate/suggestions", methods=["POST"])
@roles(*ANYONE)
def suggestions_toggle() -> Any:
    """Turn the model's suggestions on or off for this user (kept across sign-ins)."""
    on = request.form.get("show") == "on"
    suggest.set_enabled(state().db, current_user()["id"], on)
    flash("Model suggestions are " + ("on: the model's labels come pre-ticked, with their probability."
                                      if on else "off: every passage starts with no label ticked."))
    back = request.form.get("next", "")
    # only back to an annotation screen of this app (no open redirect)
    if not (back.startswith("/annotate") and "//" not in back and "\\" not in back):
        back = url_for("annotate.annotate")
    return redirect(back)


@bp.route("/annotate/mine")
@roles(*ANYONE)
def my_labels() -> Any:
    """The passages this annotator labelled, flagged or ignored, newest answer first, each with a link to
    correct it (or to label a flagged or ignored one instead)."""
    st = state()
    before = request.args.get("before", type=int)
    page = queue.my_labels(st.db, st.store_path, current_user(), before, MY_LABELS_PAGE)
    return render_template("my_labels.html", page=page, before=before)


@bp.route("/annotate/edit/<path:passage_id>", methods=["GET", "POST"])
@roles(*ANYONE)
def edit(passage_id: str) -> Any:
    """Reopen a passage this user labelled, flagged or ignored, with their labels ticked (none for a flag
    or ignore); saving appends the correction, or the labels that replace the flag or ignore."""
    st, user = state(), current_user()
    current = queue.current_answer(st.db, user["id"], passage_id)
    if current is None:  # only one's own live answers: never someone else's, never an undone one
        abort(403, description="You can only correct passages you labelled, flagged or ignored (and have not "
                               "undone).")
    p = queue.passage_with_context(st.store_path, passage_id)
    if p is None:
        abort(404, description="That passage is no longer in the scan store.")
    if request.method == "POST":
        try:
            eid = queue.edit(st.db, st.store_path, st.annotations_dir, user, passage_id, form_labels(request.form),
                             _model_version(), note=_comment(),
                             suggestions_shown=request.form.get("suggestions_shown") == "1",
                             thresholds=suggest.thresholds(st.models_dir))
        except queue.NotAnswered:
            abort(403, description="You can only correct passages you labelled, flagged or ignored (and have "
                                   "not undone).")
        if not eid:
            flash("Nothing changed: those were already your labels.")
        elif current["action"] == "label":
            flash("Saved your corrected labels; the earlier ones stay in the log.")
        else:
            flash(f"Saved your labels: they replace your {current['action']} (which stays in the log).")
        return redirect(url_for("annotate.my_labels"))
    withheld = queue.suggestions_withheld(st.db, passage_id)
    show, sugg = _suggestions(p, user, withheld)
    return render_template("annotate.html", item=None, p=p, stats=None, hint=None, checked=_ticks(current["labels"]),
                           restored=False, goal=st.cfg.annotate.session_goal, show_suggestions=show, sugg=sugg,
                           edit=current, withheld=withheld, FLAG_REASONS=queue.FLAG_REASONS,
                           reason_text=queue.FLAG_REASONS.get(current["reason"] or "", ""))


@bp.route("/flags")
@roles(*ANALYSTS)
def flags_page() -> Any:
    """Passages annotators flagged, and every comment they left, newest first."""
    st = state()
    return render_template("flags.html", rows=queue.flags(st.db, st.store_path))


@bp.route("/guidelines")
@roles(*ANYONE)
def guidelines() -> Any:
    path = state().annotations_dir / "GUIDELINES.md"
    if not path.is_file():  # an annotations folder of one's own may not have them: the project's
        from ...paths import annotations_dir

        path = annotations_dir() / "GUIDELINES.md"
    text = path.read_text("utf-8") if path.is_file() else ""
    return render_template("guidelines.html", html=_markdown(text) if text else None)


def _markdown(text: str) -> Markup:
    """GUIDELINES.md as HTML: CommonMark plus tables; raw HTML in the file is shown as text, and links
    with unsafe schemes (javascript:, data:) are not made links."""
    from markdown_it import MarkdownIt

    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


@bp.route("/agreement")
@roles(*ANALYSTS)
def agreement_page() -> Any:
    st = state()
    live = queue.live_labels(st.db)
    rep = agreement.report(live)
    adjudicated = queue.adjudications(st.db)
    conflicts = []
    for pid in rep["conflicts"][:MAX_CONFLICTS_SHOWN]:
        p = queue.passage_with_context(st.store_path, pid) or {"text": "(no longer in the scan store)"}
        given = {who: _tags(labs) for who, labs in live[pid].items()}
        differing = set.union(*given.values()) - set.intersection(*given.values())
        conflicts.append({"passage_id": pid, "site": p.get("site", ""), "lang": p.get("lang", ""),
                          "text": p["text"], "adjudicated": pid in adjudicated,
                          "differing": {who: sorted(t & differing) for who, t in given.items()}})
    pairs = sorted({pair for m in rep["labels"].values() for pair in m["pairs"]})
    return render_template("agreement.html", rep=rep, conflicts=conflicts, pairs=pairs, min_n=MIN_RELIABLE_N)


@bp.route("/adjudicate/<path:passage_id>", methods=["GET", "POST"])
@roles("admin")
def adjudicate(passage_id: str) -> Any:
    st = state()
    p = queue.passage_with_context(st.store_path, passage_id)
    if p is None:
        abort(404, description="No such passage in this scan.")
    if request.method == "POST":
        queue.adjudicate(st.db, st.store_path, st.annotations_dir, current_user(), passage_id,
                         form_labels(request.form), request.form.get("note", ""), _model_version())
        flash("Adjudication saved; the annotators' raw labels are kept.")
        return redirect(url_for("annotate.agreement_page"))
    raw = queue.live_labels(st.db).get(passage_id, {})
    given = [_tags(labs) for labs in raw.values()]
    agreed = set.intersection(*given) if given else set()
    differing = (set.union(*given) - agreed) if given else set()
    return render_template("adjudicate.html", p=p, raw=raw, adj=queue.adjudications(st.db).get(passage_id),
                           agreed=agreed, differing=differing,
                           flags=queue.flags(st.db, st.store_path, passage_id=passage_id))


def _tags(labels: dict[str, list[str]]) -> set[str]:
    return {f"{fam}:{lab}" for fam, labs in labels.items() for lab in labs}
