"""``csei serve``: the analysts' review screens and the annotators' labelling loop.

One Flask application over two databases: the scan store (read, plus a few
indexes; ``store/catalog.py``) and the app's own tables (``store/appdb.py``).
This module builds the app and holds what applies to every request; the
routes are blueprints in ``web/blueprints/``.  Safety rules that every route
follows:

* nothing is shown or written anonymously; each route names the roles it admits;
* every POST carries the session's CSRF token (checked before any route runs);
* crawled text is only ever rendered escaped (Jinja autoescape, ``highlight()``),
  links to crawled URLs only for http(s), and a strict Content-Security-Policy
  forbids inline scripts, so a planted ``<script>`` stays text;
* errors render a short page without a stack trace.
"""
from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, render_template, request, session
from werkzeug.exceptions import HTTPException

from .. import config as config_mod
from ..config import Config
from ..errors import ConfigError
from ..fsutil import atomic_write_text
from ..paths import annotations_dir as default_annotations_dir, models_dir as default_models_dir
from ..report.csvsafe import csv_text
from ..pipeline.cues.groups import GROUPS, supports
from ..report.highlight import highlight
from ..store.appdb import AppDB, database_url
from ..store.catalog import Catalog
from ..taxonomy import COUNTRY_NAMES, FAMILIES, LABELS
from . import blueprints
from . import drafts
from .common import COOKIE_LIFETIME_S, AppState, csrf_token, current_user, safe_url

__all__ = ["ACTION_KEYS", "CSP", "SHORTCUTS", "AppState", "create_app"]

log = logging.getLogger(__name__)

# Keyboard shortcuts of the annotation screen: one row of the keyboard per family.
SHORTCUTS: dict[str, str] = {}
for _fam, _keys in (("innovation", "12345"), ("helix", "qwert"), ("criteria", "asdf")):
    for _lab, _k in zip(FAMILIES[_fam], _keys):
        SHORTCUTS[f"{_fam}:{_lab}"] = _k
# flag opens the reason choice (a flag needs a reason); ignore acts at once, like skip
ACTION_KEYS = {"save": "Enter", "skip": "k", "undo": "u", "guidelines": "g", "flag": "x", "ignore": "i"}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def create_app(out_dir: str | Path, cfg: Config | None = None, *, db_url: str | None = None,
               annotations_dir: str | Path | None = None, models_dir: str | Path | None = None) -> Flask:
    """The app over the scan output folder ``out_dir`` (its ``csei.sqlite``)."""
    cfg = cfg or config_mod.load()
    out = Path(out_dir)
    if not (out / "csei.sqlite").is_file():
        raise ConfigError(f"{out}: no csei.sqlite here; run `csei scan ... --out {out}` first")
    store_path = Catalog.prepare(out)
    db = AppDB(db_url or database_url(out, cfg.web.database_url))
    ann = Path(annotations_dir or cfg.web.annotations_dir or default_annotations_dir())
    mdir = Path(models_dir or default_models_dir(cfg.classify.models_dir))
    state = AppState(out, cfg, db, store_path, ann, mdir)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=cfg.web.secret_key or db.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.web.secure_cookies),
        SESSION_COOKIE_NAME="csei_session",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=COOKIE_LIFETIME_S),  # the sign-in itself: server-side
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["csei"] = state
    app.jinja_env.globals.update(FAMILIES=FAMILIES, LABELS=LABELS, SHORTCUTS=SHORTCUTS, ACTION_KEYS=ACTION_KEYS,
                                 COUNTRY_NAMES=COUNTRY_NAMES, csrf_token=csrf_token)
    app.jinja_env.globals.update(CUE_GROUPS=GROUPS)
    app.jinja_env.filters.update(highlight=lambda text, spans, per_label=None: highlight(text or "", spans or [],
                                                                                         per_label),
                                 supporting=lambda spans, fam, lab: [s for s in spans or [] if supports(fam, lab, s)],
                                 safe_url=safe_url, pct=lambda v: f"{100 * float(v or 0):.0f}%")
    _hooks(app)
    blueprints.register(app)
    if cfg.web.proxy_hops:
        # behind nginx/Caddy/Traefik: trust that many X-Forwarded-* hops for client address, scheme and host
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = cfg.web.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore[method-assign]
    return app


def _hooks(app: Flask) -> None:
    """CSRF check before, security headers after, every request; error pages without stack traces."""
    @app.before_request
    def _csrf_protect() -> None:
        current_user()
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):  # every unsafe method carries the token
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            tok = session.get("csrf") or ""
            if not tok or not hmac.compare_digest(str(sent), str(tok)):
                abort(400, description="The form's security token is missing or out of date. "
                                       "Reload the page and try again.")

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.context_processor
    def _draft() -> dict[str, Any]:
        # a form kept when its sign-in ended, back on its page for its user (web/drafts.py)
        return {"draft": drafts.take(app.extensions["csei"].db, g.get("user"))}

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        cat = g.pop("catalog", None)
        if cat is not None:
            cat.close()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        return render_template("error.html", code=exc.code, title=exc.name,
                               message=exc.description), exc.code or 500

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("error.html", code=500, title="Something went wrong",
                               message="The server could not complete this request. It has been logged; "
                                       "try again, or tell the administrator what you were doing."), 500
