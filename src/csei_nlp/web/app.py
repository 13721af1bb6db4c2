"""``csei serve``: the analysts' review screens and the annotators' labelling loop.

One Flask application over two databases: the scan store (read, plus a few
indexes) and the app's own tables (``db.py``).  Safety rules that every route
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
import json
import logging
import secrets
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import (Flask, Response, abort, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from .. import config as config_mod
from ..annotate import agreement, log as annolog, progress, queue
from ..errors import ConfigError
from ..fsutil import atomic_write_text
from ..paths import annotations_dir as default_annotations_dir, models_dir as default_models_dir
from ..report.csvsafe import csv_text
from ..report.highlight import highlight
from ..taxonomy import COUNTRY_NAMES, FAMILIES, LABELS
from ..types import source_ref
from . import charts
from .catalog import COMPONENT_HELP, SORTS, Catalog, Filters
from .db import DECISIONS, AppDB, database_url

log = logging.getLogger(__name__)

# Keyboard shortcuts of the annotation screen: one row of the keyboard per family.
SHORTCUTS: dict[str, str] = {}
for _fam, _keys in (("innovation", "12345"), ("helix", "qwert"), ("criteria", "asdf")):
    for _lab, _k in zip(FAMILIES[_fam], _keys):
        SHORTCUTS[f"{_fam}:{_lab}"] = _k
ACTION_KEYS = {"save": "Enter", "skip": "k", "undo": "u", "guidelines": "g"}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class AppState:
    def __init__(self, out_dir: Path, cfg: dict[str, Any], db: AppDB, store_path: Path,
                 annotations_dir: Path, models_dir: Path) -> None:
        self.out_dir, self.cfg, self.db, self.store_path = out_dir, cfg, db, store_path
        self.annotations_dir, self.models_dir = annotations_dir, models_dir
        self.params = queue.QueueParams.from_config(cfg)


def _check_cfg(cfg: dict[str, Any]) -> None:
    a = cfg["annotate"]
    for key in ("random_share", "overlap"):
        if not 0.0 <= a[key] <= 1.0:
            raise ConfigError(f"[annotate] {key} must be between 0 and 1, got {a[key]}")
    if a["batch_size"] < 1 or a["per_site"] < 1:
        raise ConfigError("[annotate] batch_size and per_site must be >= 1")
    if cfg["web"]["page_size"] < 1 or cfg["web"]["page_size"] > 1000:
        raise ConfigError("[web] page_size must be between 1 and 1000")


def create_app(out_dir: str | Path, cfg: dict[str, Any] | None = None, *, db_url: str | None = None,
               annotations_dir: str | Path | None = None, models_dir: str | Path | None = None) -> Flask:
    """The app over the scan output folder ``out_dir`` (its ``csei.sqlite``)."""
    cfg = cfg or config_mod.load()
    _check_cfg(cfg)
    out = Path(out_dir)
    if not (out / "csei.sqlite").is_file():
        raise ConfigError(f"{out}: no csei.sqlite here; run `csei scan ... --out {out}` first")
    store_path = Catalog.prepare(out)
    db = AppDB(db_url or database_url(out, cfg["web"]["database_url"]))
    ann = Path(annotations_dir or cfg["web"]["annotations_dir"] or default_annotations_dir())
    mdir = Path(models_dir or default_models_dir(cfg["classify"]["models_dir"]))
    state = AppState(out, cfg, db, store_path, ann, mdir)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=cfg["web"]["secret_key"] or db.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg["web"]["secure_cookies"]),
        SESSION_COOKIE_NAME="csei_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["csei"] = state
    app.jinja_env.globals.update(FAMILIES=FAMILIES, LABELS=LABELS, SHORTCUTS=SHORTCUTS, ACTION_KEYS=ACTION_KEYS,
                                 COUNTRY_NAMES=COUNTRY_NAMES, csrf_token=_csrf_token)
    app.jinja_env.filters.update(highlight=lambda text, spans: highlight(text or "", spans or []),
                                 safe_url=_safe_url, pct=lambda v: f"{100 * float(v or 0):.0f}%")
    _routes(app, state)
    return app


# --- helpers ------------------------------------------------------------------

def _safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s), else None (no javascript:, data: ... links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def _state() -> AppState:
    from flask import current_app

    return current_app.extensions["csei"]


def _catalog() -> Catalog:
    if "catalog" not in g:
        g.catalog = Catalog(_state().store_path)
    return g.catalog


def current_user() -> dict[str, Any] | None:
    if "user" not in g:
        uid = session.get("uid")
        g.user = _state().db.user(uid) if isinstance(uid, int) else None
    return g.user


def roles(*allowed: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            user = current_user()
            if user is None:
                if request.method == "GET" and not request.path.startswith("/api/"):
                    return redirect(url_for("login", next=request.full_path))
                abort(401)
            if user["role"] not in allowed:
                abort(403)
            return fn(*a, **kw)
        return wrapper
    return deco


ANALYSTS = ("admin", "analyst")
ANYONE = ("admin", "analyst", "annotator")


def _csv_response(rows: list[dict[str, Any]], fields: list[str], name: str) -> Response:
    # formulas in crawled strings are neutralised by the shared writer (CSV injection)
    text = csv_text(rows, fields, lineterminator="\r\n", extrasaction="ignore")
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _json_response(data: Any, name: str) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _form_labels(form: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for v in form.getlist("label"):
        fam, _, lab = v.partition(":")
        if fam in FAMILIES and lab in FAMILIES[fam]:
            out[fam].append(lab)
    return out


def _ranking_row(c: dict[str, Any]) -> dict[str, Any]:
    return {"rank": c["rank"], "site": c["site"], "name": c.get("name") or "", "score": c["score"],
            "country": c.get("country") or "", "cee": int(c["cee"]), "known": int(c["known"]),
            "known_name": c.get("known_name") or "", "n_documents": c["n_documents"],
            "languages": " ".join(c.get("languages") or []),
            **{f"tags_{f}": " ".join((c.get("tags") or {}).get(f, [])) for f in FAMILIES},
            **{f"c_{k}": v for k, v in (c.get("components") or {}).items()}}


DECISION_FIELDS = ["id", "site", "decision", "note", "user_name", "created", "model_version", "run_id"]


def training_records(state: AppState) -> list[dict[str, Any]]:
    """Analysts' latest accept/reject per site, expanded to the site's documents.

    ``unsure`` is not a label and is left out.  One record per document, in the
    shape ``csei train`` reads from ``annotations/documents-decisions.jsonl``.
    """
    latest = state.db.latest_decisions()
    cat = Catalog(state.store_path)
    out = []
    try:
        for site, d in sorted(latest.items()):
            if d["decision"] not in ("accept", "reject"):
                continue
            for doc in cat.documents_of(site):
                if doc["dup_of"]:
                    continue
                full = cat.document(doc["id"]) or {}
                out.append({
                    "id": f"decision:{doc['id']}", "doc_id": doc["id"], "site": site, "url": doc["url"],
                    "lang": doc["lang"], "title": doc["title"],
                    "source": source_ref(doc["source"], doc["offset"]),
                    "text": full.get("text") or "",
                    "doc_label": {"is_csei": 1 if d["decision"] == "accept" else 0,
                                  "kind": "csei" if d["decision"] == "accept" else "analyst_reject"},
                    "decision": d["decision"], "note": d["note"], "annotator": d["user_name"],
                    "time": d["created"], "model_version": d["model_version"], "run_id": d["run_id"],
                    "split": None,
                })
    finally:
        cat.close()
    return out


def write_training_file(state: AppState) -> tuple[Path, int]:
    """Rewrite ``annotations/documents-decisions.jsonl`` (derived; written atomically)."""
    recs = training_records(state)
    path = state.annotations_dir / "documents-decisions.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in recs))
    return path, len(recs)


# --- routes ---------------------------------------------------------------------

def _routes(app: Flask, state: AppState) -> None:
    @app.before_request
    def _csrf_protect() -> None:
        current_user()
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
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

    # --- accounts ---
    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            user = state.db.authenticate(request.form.get("name", ""), request.form.get("password", ""))
            if user:
                nxt = request.args.get("next") or ""
                session.clear()
                session.permanent = True
                session["uid"] = user["id"]
                _csrf_token()
                if not nxt.startswith("/") or nxt.startswith("//"):
                    nxt = url_for("home")
                return redirect(nxt)
            error = "Unknown name or wrong password."
        return render_template("login.html", error=error), (401 if error else 200)

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login"))

    @app.route("/")
    @roles(*ANYONE)
    def home() -> Any:
        return redirect(url_for("annotate" if current_user()["role"] == "annotator" else "ranking"))

    # --- analysts ---
    @app.route("/ranking")
    @roles(*ANALYSTS)
    def ranking() -> Any:
        f = Filters.from_args(request.args)
        sort = request.args.get("sort", "rank")
        sort = sort if sort in SORTS else "rank"
        cat = _catalog()
        rows, nxt = cat.page(f, sort, request.args.get("after", ""), state.cfg["web"]["page_size"])
        latest = state.db.latest_decisions()
        args = request.args.to_dict(flat=False)
        args.pop("after", None)
        return render_template("ranking.html", rows=rows, next_cursor=nxt, f=f, sort=sort, sorts=SORTS,
                               total=cat.count(f), facets=cat.facets(), latest=latest, args=args,
                               first_page=not request.args.get("after"))

    @app.route("/candidate/<path:site>")
    @roles(*ANALYSTS)
    def candidate(site: str) -> Any:
        cat = _catalog()
        c = cat.candidate(site)
        if c is None:
            abort(404, description=f"No candidate {site!r} in this scan.")
        return render_template("candidate.html", c=c, docs=cat.documents_of(site), help=COMPONENT_HELP,
                               cues=cat.cue_evidence(site),
                               weights=state.cfg["score"], history=state.db.decision_history(site),
                               decisions=DECISIONS, run=cat.run_info())

    @app.route("/candidate/<path:site>/decision", methods=["POST"])
    @roles(*ANALYSTS)
    def decide(site: str) -> Any:
        cat = _catalog()
        if cat.candidate(site) is None:
            abort(404, description=f"No candidate {site!r} in this scan.")
        decision = request.form.get("decision", "")
        if decision not in DECISIONS:
            abort(400, description="Choose accept, reject or unsure.")
        run = cat.run_info()
        state.db.add_decision(site, decision, request.form.get("note", "").strip(), current_user(),
                              run["model_version"], run["run_id"])
        flash(f"Decision '{decision}' saved for {site}.")
        return redirect(url_for("candidate", site=site))

    @app.route("/document/<doc_id>")
    @roles(*ANALYSTS)
    def document(doc_id: str) -> Any:
        cat = _catalog()
        d = cat.document(doc_id)
        if d is None:
            abort(404, description="No such document in this scan.")
        focus = request.args.get("p", type=int)
        return render_template("document.html", d=d, passages=cat.passages(doc_id), focus=focus)

    @app.route("/overview")
    @roles(*ANALYSTS)
    def overview() -> Any:
        ov = _catalog().overview()
        latest = state.db.latest_decisions()
        reviewed = {k: sum(1 for d in latest.values() if d["decision"] == k) for k in DECISIONS}
        pending = max(0, ov["total"] - len(latest))
        return render_template("overview.html", ov=ov,
                               country_svg=charts.bars([(c, n) for c, n, _ in ov["by_country"]], "Candidates by country"),
                               score_svg=charts.histogram(ov["score_bins"], "Score distribution"),
                               mix_svg={f: charts.bars(sorted(m.items(), key=lambda kv: -kv[1]), f"Tags: {f}")
                                        for f, m in ov["label_mix"].items()},
                               review_svg=charts.bars([("pending", pending)] + list(reviewed.items()),
                                                      "Reviewed vs pending"))

    @app.route("/decisions")
    @roles(*ANALYSTS)
    def decisions_page() -> Any:
        return render_template("decisions.html", rows=list(reversed(state.db.all_decisions()))[:500])

    @app.route("/export/decisions.<fmt>")
    @roles(*ANALYSTS)
    def export_decisions(fmt: str) -> Any:
        rows = state.db.all_decisions()
        if fmt == "csv":
            return _csv_response(rows, DECISION_FIELDS, "decisions.csv")
        if fmt == "json":
            return _json_response([{k: r[k] for k in DECISION_FIELDS} for r in rows], "decisions.json")
        abort(404)

    @app.route("/export/ranking.<fmt>")
    @roles(*ANALYSTS)
    def export_ranking(fmt: str) -> Any:
        f = Filters.from_args(request.args)
        sort = request.args.get("sort", "rank")
        rows = list(_catalog().iter_filtered(f, sort if sort in SORTS else "rank"))
        latest = state.db.latest_decisions()
        for r in rows:
            r["decision"] = (latest.get(r["site"]) or {}).get("decision", "")
        if fmt == "csv":
            flat = [{**_ranking_row(r), "decision": r["decision"]} for r in rows]
            fields = list(flat[0]) if flat else ["rank", "site", "name", "score", "decision"]
            return _csv_response(flat, fields, "ranking.csv")
        if fmt == "json":
            return _json_response(rows, "ranking.json")
        abort(404)

    @app.route("/export/training", methods=["POST"])
    @roles(*ANALYSTS)
    def export_training() -> Any:
        path, n = write_training_file(state)
        flash(f"Wrote {n} document records to {path.name} for `csei train`.")
        return redirect(url_for("decisions_page"))

    # --- annotators ---
    @app.route("/annotate")
    @roles(*ANYONE)
    def annotate() -> Any:
        user = current_user()
        item = queue.next_item(state.db, state.store_path, user, state.params)
        p = queue.passage_with_context(state.store_path, item["passage_id"]) if item else None
        hist = progress.merge_history(_history(state), progress.read_cards(state.models_dir))
        _save_history(state, hist)
        return render_template("annotate.html", item=item, p=p, stats=queue.stats(state.db, user),
                               hint=progress.stopping_hint(hist))

    @app.route("/annotate", methods=["POST"])
    @roles(*ANYONE)
    def annotate_post() -> Any:
        action = request.form.get("action", "label")
        pid = request.form.get("passage_id", "")
        if action not in ("label", "skip") or not pid:
            abort(400, description="Unknown annotation action.")
        try:
            queue.record(state.db, state.store_path, state.annotations_dir, current_user(), pid, action,
                         _form_labels(request.form), _catalog().run_info()["model_version"])
        except LookupError:
            abort(404, description="That passage is no longer in the scan store.")
        return redirect(url_for("annotate"))

    @app.route("/annotate/undo", methods=["POST"])
    @roles(*ANYONE)
    def annotate_undo() -> Any:
        last = queue.undo(state.db, state.store_path, state.annotations_dir, current_user(),
                          _catalog().run_info()["model_version"])
        flash("Undid your last " + (last["action"] if last else "action") + "." if last else "Nothing to undo.")
        return redirect(url_for("annotate"))

    @app.route("/guidelines")
    @roles(*ANYONE)
    def guidelines() -> Any:
        path = state.annotations_dir / "GUIDELINES.md"
        text = path.read_text("utf-8") if path.is_file() else ""
        return render_template("guidelines.html", text=text)

    @app.route("/agreement")
    @roles(*ANALYSTS)
    def agreement_page() -> Any:
        rep = agreement.report(queue.live_labels(state.db))
        return render_template("agreement.html", rep=rep, adjudicated=queue.adjudications(state.db))

    @app.route("/adjudicate/<path:passage_id>", methods=["GET", "POST"])
    @roles("admin")
    def adjudicate(passage_id: str) -> Any:
        p = queue.passage_with_context(state.store_path, passage_id)
        if p is None:
            abort(404, description="No such passage in this scan.")
        if request.method == "POST":
            queue.adjudicate(state.db, state.store_path, state.annotations_dir, current_user(), passage_id,
                             _form_labels(request.form), request.form.get("note", ""),
                             _catalog().run_info()["model_version"])
            flash("Adjudication saved; the annotators' raw labels are kept.")
            return redirect(url_for("agreement_page"))
        raw = queue.live_labels(state.db).get(passage_id, {})
        return render_template("adjudicate.html", p=p, raw=raw, adj=queue.adjudications(state.db).get(passage_id))

    @app.route("/export/annotations.<fmt>")
    @roles(*ANALYSTS)
    def export_annotations(fmt: str) -> Any:
        from ..annotate import formats

        recs = [r for r in annolog.read(state.annotations_dir) if r.get("event") == "label"]
        retracted = {r.get("retracts") for r in annolog.read(state.annotations_dir) if r.get("event") == "retract"}
        recs = [r for r in recs if r["id"] not in retracted]
        if fmt == "labelstudio.json":
            return _json_response(formats.to_label_studio(recs), "annotations-labelstudio.json")
        if fmt == "prodigy.jsonl":
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in formats.to_prodigy(recs))
            return Response(body, mimetype="application/jsonl",
                            headers={"Content-Disposition": 'attachment; filename="annotations.jsonl"'})
        abort(404)

    @app.route("/healthz")
    def healthz() -> Any:
        return jsonify(ok=True)


def _history(state: AppState) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from .db import settings

    with state.db.engine.connect() as c:
        row = c.execute(select(settings.c.value).where(settings.c.key == "metric_history")).first()
    return json.loads(row[0]) if row else []


def _save_history(state: AppState, hist: list[dict[str, Any]]) -> None:
    from sqlalchemy import select

    from .db import settings

    if hist == _history(state):
        return
    with state.db.engine.begin() as c:
        if c.execute(select(settings.c.key).where(settings.c.key == "metric_history")).first():
            c.execute(settings.update().where(settings.c.key == "metric_history").values(value=json.dumps(hist)))
        else:
            c.execute(settings.insert().values(key="metric_history", value=json.dumps(hist)))
