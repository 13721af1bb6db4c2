"""The analyst's review loop: decide, move to the next candidate in the working order, decide in bulk."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

from conftest import login


def _sites(client, query: str) -> list[str]:
    return [r["site"] for r in csv.DictReader(io.StringIO(client.get("/export/ranking.csv?" + query).text))]


def test_decide_and_move_on_in_the_filtered_order(app):
    c = app.test_client()
    tok = login(c, "alice")
    order = _sites(c, "cee=1")
    assert len(order) >= 3
    page = c.get("/ranking?cee=1").text
    assert f'href="/candidate/{order[0]}?cee=1"' in page  # links keep the working order
    first = c.get(f"/candidate/{order[0]}?cee=1").text
    assert f'href="/candidate/{order[1]}?cee=1"' in first and 'id="next-candidate"' in first
    assert 'id="prev-candidate"' not in first
    second = c.get(f"/candidate/{order[1]}?cee=1").text
    assert f'href="/candidate/{order[0]}?cee=1" id="prev-candidate"' in second

    # under "pending", deciding a candidate moves to the next one still pending
    r = c.post(f"/candidate/{order[0]}/decision",
               data={"decision": "accept", "note": "", "csrf_token": tok, "ctx": "cee=1&decision=pending"})
    assert r.status_code == 302
    target = urlsplit(r.headers["Location"])
    assert target.path == f"/candidate/{order[1]}"
    assert parse_qs(target.query) == {"cee": ["1"], "decision": ["pending"]}
    assert order[0] not in _sites(c, "cee=1&decision=pending")
    # the last one: stay there and say so
    r = c.post(f"/candidate/{order[-1]}/decision", data={"decision": "unsure", "csrf_token": tok, "ctx": "cee=1"},
               follow_redirects=True)
    assert "last candidate with these filters" in r.text


def test_bulk_decision_on_a_filtered_selection(app):
    c = app.test_client()
    tok = login(c, "bob")
    selected = _sites(c, "q=klaster")
    assert len(selected) >= 2
    assert 'id="bulk-form"' in c.get("/ranking?q=klaster").text
    # the selection changed since the page was shown: nothing is saved
    r = c.post("/ranking/decide", data={"csrf_token": tok, "ctx": "q=klaster", "expected": len(selected) + 1,
                                        "decision": "reject", "note": "industrial"}, follow_redirects=True)
    assert "nothing was saved" in r.text and _sites(c, "decision=reject") == []
    r = c.post("/ranking/decide", data={"csrf_token": tok, "ctx": "q=klaster", "expected": len(selected),
                                        "decision": "unsure", "note": "check the members lists"})
    assert r.status_code == 302 and parse_qs(urlsplit(r.headers["Location"]).query) == {"q": ["klaster"]}
    assert sorted(_sites(c, "decision=unsure")) == sorted(selected)
    history = c.get(f"/candidate/{selected[0]}").text
    assert "check the members lists" in history and re.search(r"d-unsure\">unsure</span> bob", history)
