"""Signing in and out, the landing redirect and the health check.

Why a blueprint of its own: these are the only routes anonymous visitors reach.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from ..common import ANYONE, csrf_token, current_user, roles, state

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        user = state().db.authenticate(request.form.get("name", ""), request.form.get("password", ""))
        if user:
            nxt = request.args.get("next") or ""
            session.clear()
            session.permanent = True
            session["uid"] = user["id"]
            csrf_token()
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = url_for("auth.home")
            return redirect(nxt)
        error = "Unknown name or wrong password."
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/")
@roles(*ANYONE)
def home() -> Any:
    return redirect(url_for("annotate.annotate" if current_user()["role"] == "annotator" else "review.ranking"))


@bp.route("/healthz")
def healthz() -> Any:
    return jsonify(ok=True)
