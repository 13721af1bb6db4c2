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

from flask import abort, current_app, g, redirect, request, session, url_for

from ..annotate import queue
from ..config import Config
from ..store.appdb import AppDB
from ..store.catalog import Catalog
from ..taxonomy import FAMILIES

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


#: how long a sign-in lasts (the server-side session and the cookie alike)
SESSION_LIFETIME_S = 12 * 3600


def current_user() -> dict[str, Any] | None:
    """The user of the request's server-side session (None: none, signed out, expired or disabled)."""
    if "user" not in g:
        sid = session.get("sid")
        g.user = state().db.session_user(sid) if isinstance(sid, str) else None
    return g.user


def roles(*allowed: str) -> Callable:
    """Admit only signed-in users with one of these roles (anonymous GETs go to the login page)."""
    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            user = current_user()
            if user is None:
                if request.method == "GET" and not request.path.startswith("/api/"):
                    return redirect(url_for("auth.login", next=request.full_path))
                abort(401)
            if user["role"] not in allowed:
                abort(403)
            return fn(*a, **kw)
        return wrapper
    return deco


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
