"""Fixtures for the web app tests: one real scan of a few sample pages, a live server.

The store is made by ``csei_nlp.scan.run_scan`` on sample corpus sites (CEE and
western) plus ``tests/fixtures/web``, a Polish cluster page whose text carries a
planted ``<script>``.  Classification runs when trained models are in models/.
"""
from __future__ import annotations

import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from csei_nlp.paths import models_dir

REPO = Path(__file__).resolve().parents[2]
SITES = ("klaster-borylipiny.pl", "klaster-hornarieka.sk", "zelenalhota.cz", "gruenes-wiesenthal.de",
         "lecho-du-plateau.fr", "ptce-orvane.fr")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def scan_template(tmp_path_factory) -> Path:
    from csei_nlp import config
    from csei_nlp.scan import run_scan

    out = tmp_path_factory.mktemp("scan")
    classify = any(models_dir().glob("*.skops"))
    cfg = config.load(overrides={"classify": {"enabled": classify}, "scan": {"workers": 1}})
    paths = [REPO / "corpora" / "sample" / "web" / s for s in SITES] + [REPO / "tests" / "fixtures" / "web"]
    summary = run_scan(paths, out, cfg)
    assert summary.ok >= 8 and summary.n_candidates >= 6, summary.render()
    return out


@pytest.fixture()
def scan_out(scan_template, tmp_path) -> Path:
    """A private copy of the scanned OUTDIR (the app adds its own database beside the store)."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("csei.sqlite", "run.json"):
        src = scan_template / name
        if src.exists():
            shutil.copy2(src, out / name)
    return out


def make_users(app) -> dict[str, dict]:
    db = app.extensions["csei"].db
    out = {}
    for name, role in (("alice", "analyst"), ("bob", "analyst"), ("nina", "annotator"),
                       ("olek", "annotator"), ("root", "admin")):
        out[name] = {"id": db.add_user(name, role, PASSWORD), "name": name, "role": role}
    return out


@pytest.fixture()
def app(scan_out, tmp_path):
    from csei_nlp.web.app import create_app

    a = create_app(scan_out, annotations_dir=tmp_path / "annotations", models_dir=tmp_path / "no-models")
    a.config["TESTING"] = False  # keep the real error handling
    make_users(a)
    yield a
    a.extensions["csei"].db.dispose()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def login(client, name: str, password: str = PASSWORD) -> str:
    tok = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"name": name, "password": password, "csrf_token": tok})
    assert r.status_code == 302, r.text
    return csrf_of(client.get("/guidelines").text)


@contextmanager
def serving(app):
    """The app on a werkzeug server in a thread, on a free port of 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        t.join(5)


@pytest.fixture()
def live_server(app):
    """The real app served on a free port of 127.0.0.1."""
    with serving(app) as url:
        yield url
