"""What every blueprint of the review app shares: the app's state, the request's
catalog connection, the signed-in user, the role guard and the CSRF token.

Why a module of its own: the blueprints (``web/blueprints/``) and the app
factory (``web/app.py``) all need these, and none of them should import another.
"""
from __future__ import annotations

import secrets
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for

from ..annotate import queue
from ..config import Config
from ..store.appdb import AppDB
from ..store.catalog import Catalog
from ..taxonomy import FAMILIES
from . import drafts

ANALYSTS = ("admin", "analyst")
ANYONE = ("admin", "analyst", "annotator")


class AppState:
    """What ``create_app`` set up: folders, config, the app database and the store's path."""

    def __init__(self, out_dir: Path, cfg: Config, db: AppDB, store_path: Path,
                 annotations_dir: Path, models_dir: Path) -> None:
        self.out_dir, self.cfg, self.db, self.store_path = out_dir, cfg, db, store_path
        self.annotations_dir, self.models_dir = annotations_dir, models_dir
        self.params = queue.QueueParams.from_config(cfg)


def state() -> AppState:
    return current_app.extensions["csei"]


def catalog() -> Catalog:
    """The request's read connection to the scan store (closed at teardown)."""
    if "catalog" not in g:
        g.catalog = Catalog(state().store_path)
    return g.catalog


#: how long a sign-in lasts (the server-side session)
SESSION_LIFETIME_S = 12 * 3600
#: how long the cookie lasts: longer than a sign-in, so a form sent after the sign-in ended still carries
#: a CSRF token this browser's cookie vouches for, and what was typed can be kept (``web/drafts.py``);
#: the cookie opens nothing by itself (the session id in it must be live server-side)
COOKIE_LIFETIME_S = 30 * 24 * 3600


def current_user() -> dict[str, Any] | None:
    """The user of the request's server-side session (None: none, signed out, expired or disabled)."""
    if "user" not in g:
        sid = session.get("sid")
        g.user = state().db.session_user(sid) if isinstance(sid, str) else None
        if g.user is not None and session.get("uid") != g.user["id"]:
            session["uid"] = g.user["id"]  # whose typing a form sent after this sign-in ends may keep
    return g.user


def roles(*allowed: str, form_page: Callable[..., str] | None = None, keep_form: bool = True) -> Callable:
    """Admit only signed-in users with one of these roles.

    Without a live sign-in, a GET goes to the sign-in page and back to the same
    URL; a write (its CSRF token already checked) keeps its fields when
    ``keep_form`` (``web/drafts.py``) and goes to the sign-in page, then back to
    the page holding the form: ``form_page(**view_args)``, else the page the
    request came from, else home.
    """
    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401)
                ended = isinstance(session.pop("sid", None), str)  # signed in once in this browser: say why
                if request.method in ("GET", "HEAD"):
                    if ended:
                        flash("Your sign-in has ended. Sign in again to go on.")
                    back = request.full_path if request.query_string else request.path
                    return redirect(url_for("auth.login", next=back))
                return _sign_in_again(form_page(**kw) if form_page else None, keep_form)
            if user["role"] not in allowed:
                abort(403)
            return fn(*a, **kw)
        return wrapper
    return deco


def _sign_in_again(page: str | None, keep_form: bool) -> Any:
    """A write whose sign-in has ended: keep what was typed, then sign in and go back to the form."""
    target = drafts.local_path(page) or drafts.referrer_path() or url_for("auth.home")
    if drafts.keep(state().db, target, keep_form):
        flash("Your sign-in had ended, so nothing was saved. Sign in again: what you entered will be "
              "back in the form, to check and send again.")
    else:
        flash("Your sign-in had ended, so nothing was saved. Sign in again and send the form once more.")
    return redirect(url_for("auth.login", next=target), 303)


def csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s), else None (no javascript:, data: ... links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def form_labels(form: Any) -> dict[str, list[str]]:
    """The ``family:label`` checkboxes of a form, known labels only."""
    out: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for v in form.getlist("label"):
        fam, _, lab = v.partition(":")
        if fam in FAMILIES and lab in FAMILIES[fam]:
            out[fam].append(lab)
    return out
