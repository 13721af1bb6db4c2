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
