"""Signing in and out, the landing redirect and the health check.

Why a blueprint of its own: these are the only routes anonymous visitors reach.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for

from ...errors import CseiError

from .. import drafts
from ..common import ANYONE, SESSION_LIFETIME_S, csrf_token, current_user, roles, state

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        user = state().db.authenticate(request.form.get("name", ""), request.form.get("password", ""))
        if user:
            # only a path on this site is followed: never another host (no open redirect)
            nxt = drafts.local_path(request.args.get("next")) or url_for("auth.home")
            draft_id = session.get("draft")
            session.clear()  # nothing of the signed-out browser's session carries over ...
            session.permanent = True
            session["sid"] = state().db.open_session(user["id"], SESSION_LIFETIME_S)
            session["uid"] = user["id"]
            csrf_token()
            drafts.carry_over(state().db, draft_id, user["id"])  # ... but its kept form, for the same user
            return redirect(nxt)
        error = "Unknown name or wrong password."
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    sid = session.get("sid")
    if isinstance(sid, str):
        state().db.close_session(sid)  # the cookie, if kept somewhere, opens nothing from now on
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@roles(*ANYONE, keep_form=False)  # a form of passwords: nothing of it is ever kept
def account() -> Any:
    """Change one's own password (every session of the account ends; sign in again)."""
    error = None
    if request.method == "POST":
        user = current_user()
        old, new, again = (request.form.get(k, "") for k in ("old", "new", "again"))
        if state().db.authenticate(user["name"], old) is None:
            error = "The current password is wrong."
        elif new != again:
            error = "The two new passwords differ."
        else:
            try:
                state().db.set_password(user["id"], new)
            except CseiError as exc:
                error = str(exc)
            else:
                session.clear()
                flash("Password changed. Sign in with the new one.")
                return redirect(url_for("auth.login"))
    return render_template("account.html", error=error), (400 if error else 200)


@bp.route("/users", methods=["GET", "POST"])
@roles("admin")
def users() -> Any:
    """Admins enable and disable accounts (disabling ends the account's sessions at once)."""
    db = state().db
    if request.method == "POST":
        name, action = request.form.get("name", ""), request.form.get("action", "")
        if action not in ("enable", "disable"):
            abort(400, description="Choose enable or disable.")
        if action == "disable" and name == current_user()["name"]:
            abort(400, description="You cannot disable your own account.")
        try:
            db.set_active(name, action == "enable")
        except CseiError as exc:
            abort(404, description=str(exc))
        flash(f"{name}: {action}d.")
        return redirect(url_for("auth.users"))
    return render_template("users.html", users=db.users())


@bp.route("/")
@roles(*ANYONE)
def home() -> Any:
    return redirect(url_for("annotate.annotate" if current_user()["role"] == "annotator" else "review.ranking"))


@bp.route("/healthz")
def healthz() -> Any:
    return jsonify(ok=True)
