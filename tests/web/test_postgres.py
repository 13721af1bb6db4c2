"""The same app on a real PostgreSQL server (started by scripts/start-postgres.sh in `make test`)."""
from __future__ import annotations

import os
import secrets
import threading

import pytest

from conftest import login, make_users

PG_URL = os.environ.get("CSEI_TEST_PG_URL", "")
pytestmark = pytest.mark.skipif(not PG_URL, reason="CSEI_TEST_PG_URL is not set "
                                "(`make test` starts a throwaway server with scripts/start-postgres.sh)")


@pytest.fixture()
def pg_app(scan_out, tmp_path):
    import psycopg

    name = "csei_test_" + secrets.token_hex(4)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    from csei_nlp.web.app import create_app

    app = create_app(scan_out, db_url=url, annotations_dir=tmp_path / "annotations",
                     models_dir=tmp_path / "no-models")
    make_users(app)
    assert app.extensions["csei"].db.dialect == "postgresql"
    yield app
    app.extensions["csei"].db.dispose()
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_decisions_permissions_and_history_on_postgres(pg_app):
    c = pg_app.test_client()
    tok = login(c, "alice")
    for d in ("unsure", "accept"):
        assert c.post("/candidate/zelenalhota.cz/decision", data={"decision": d, "csrf_token": tok}).status_code == 302
    a = pg_app.test_client()
    atok = login(a, "nina")
    assert a.post("/candidate/zelenalhota.cz/decision", data={"decision": "reject", "csrf_token": atok}).status_code == 403
    hist = pg_app.extensions["csei"].db.decision_history("zelenalhota.cz")
    assert [h["decision"] for h in hist] == ["accept", "unsure"]
    assert "zelenalhota.cz,accept,,alice" in c.get("/export/decisions.csv").text


def test_concurrent_annotators_on_postgres(pg_app):
    from csei_nlp.annotate import queue

    st = pg_app.extensions["csei"]
    users = [u | {"role": "annotator"} for u in st.db.users() if u["name"] in ("nina", "olek")]
    errors, done = [], []

    def work(u):
        try:
            for _ in range(6):
                it = queue.next_item(st.db, st.store_path, u, st.params)
                queue.record(st.db, st.store_path, st.annotations_dir, u, it["passage_id"], "label",
                             {"helix": ["business"]}, "mv")
                done.append((u["name"], it["passage_id"]))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    live = queue.live_labels(st.db)
    assert sorted((n, p) for p, by in live.items() for n in by) == sorted(done)
    assert len(done) == 12


def test_annotators_tools_on_postgres(pg_app, scan_out):
    """Corrections, flags, comments, My labels and suggestions: the same queries on PostgreSQL."""
    import re

    from test_annotators import SUGGESTED, set_probabilities, single_annotation

    from csei_nlp.annotate import queue

    set_probabilities(scan_out)
    single_annotation(pg_app)
    st = pg_app.extensions["csei"]
    c = pg_app.test_client()
    tok = login(c, "nina")

    def offered() -> str:
        return re.search(r'name="passage_id" value="([^"]+)"', c.get("/annotate").text).group(1)

    page = c.get("/annotate").text
    assert set(re.findall(r'value="([a-z_]+:[a-z_]+)" data-key="\w" checked', page)) == SUGGESTED
    pid = offered()
    c.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": "label", "label": ["helix:business"],
                              "suggestions_shown": "1"})
    flagged = offered()
    c.post("/annotate", data={"csrf_token": tok, "passage_id": flagged, "action": "flag", "reason": "unsure",
                              "comment": "<b>odd</b>"})
    assert offered() not in (pid, flagged)
    assert "set aside 1" in c.get("/annotate").text
    assert c.post(f"/annotate/edit/{pid}", data={"csrf_token": tok, "label": ["helix:civil_society"]}).status_code == 302
    assert queue.live_labels(st.db)[pid]["nina"]["helix"] == ["civil_society"]
    mine = c.get("/annotate/mine").text
    assert mine.count('class="mine"') == 2 and "corrected" in mine
    assert f'data-passage="{flagged}" data-action="flag"' in mine
    root = pg_app.test_client()
    login(root, "root")
    flags = root.get("/flags").text
    assert "&lt;b&gt;odd&lt;/b&gt;" in flags and flagged in flags


def test_an_earlier_app_database_on_postgres_gets_the_new_columns():
    import psycopg
    from sqlalchemy import inspect

    from csei_nlp.store.appdb import AppDB

    name = "csei_test_" + secrets.token_hex(4)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("CREATE TABLE app_annotation_events (id SERIAL PRIMARY KEY, passage_id VARCHAR(64) NOT NULL, "
                      "user_id INTEGER NOT NULL, user_name VARCHAR(80) NOT NULL, action VARCHAR(16) NOT NULL, "
                      "labels TEXT NOT NULL, target_id INTEGER, created VARCHAR(32) NOT NULL, "
                      "model_version VARCHAR(255) NOT NULL, note TEXT NOT NULL)")
        db = AppDB(url)
        try:
            cols = {col["name"] for col in inspect(db.engine).get_columns("app_annotation_events")}
            assert {"reason", "suggestions_shown", "suggested", "suggestions_withheld"} <= cols
        finally:
            db.dispose()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
