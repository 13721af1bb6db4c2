"""The annotators' labelling loop, the guidelines, and the agreement and adjudication screens.

Why a blueprint of its own: these routes drive :mod:`csei_nlp.annotate`
(queue, progress, agreement); they only read the form and render the result.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ...annotate import agreement, progress, queue
from ..common import ANALYSTS, ANYONE, catalog, current_user, form_labels, roles, state

bp = Blueprint("annotate", __name__)

MIN_RELIABLE_N = 30  # below this many double-annotated passages the agreement page warns
MAX_CONFLICTS_SHOWN = 50


def _model_version() -> str:
    return catalog().run_info()["model_version"]


@bp.route("/annotate")
@roles(*ANYONE)
def annotate() -> Any:
    st, user = state(), current_user()
    item = queue.next_item(st.db, st.store_path, user, st.params)
    p = queue.passage_with_context(st.store_path, item["passage_id"]) if item else None
    hist = progress.update_history(st.db, st.models_dir)
    # after an undo the passage comes back with the answer that was undone, ready to correct
    previous = queue.retracted_labels(st.db, user["id"], item["passage_id"]) if item else None
    checked = {f"{fam}:{lab}" for fam, labs in (previous or {}).items() for lab in labs}
    return render_template("annotate.html", item=item, p=p, stats=queue.stats(st.db, user),
                           hint=progress.stopping_hint(hist), checked=checked, restored=previous is not None,
                           goal=st.cfg.annotate.session_goal)


@bp.route("/annotate", methods=["POST"])
@roles(*ANYONE)
def annotate_post() -> Any:
    st = state()
    action = request.form.get("action", "label")
    pid = request.form.get("passage_id", "")
    if action not in ("label", "skip") or not pid:
        abort(400, description="Unknown annotation action.")
    try:
        queue.record(st.db, st.store_path, st.annotations_dir, current_user(), pid, action,
                     form_labels(request.form), _model_version())
    except queue.NotOffered:
        flash("That passage was not offered to you here (another tab or an old page), so nothing was saved. "
              "Here is your next one.")
    except LookupError:
        abort(404, description="That passage is no longer in the scan store.")
    return redirect(url_for("annotate.annotate"))


@bp.route("/annotate/undo", methods=["POST"])
@roles(*ANYONE)
def annotate_undo() -> Any:
    st = state()
    last = queue.undo(st.db, st.store_path, st.annotations_dir, current_user(), _model_version())
    flash("Undid your last " + (last["action"] if last else "action") + "." if last else "Nothing to undo.")
    return redirect(url_for("annotate.annotate"))


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
                           agreed=agreed, differing=differing)


def _tags(labels: dict[str, list[str]]) -> set[str]:
    return {f"{fam}:{lab}" for fam, labs in labels.items() for lab in labs}
