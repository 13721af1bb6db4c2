"""A sign-in that ends while someone types: sign in again and find the form as it was, to send again.

Expired (past its 12 hours) and revoked (password changed elsewhere, account
disabled and enabled) sessions alike; ``next`` only ever leads to this site.
"""
from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import PASSWORD, csrf_of, login

NOTE = 'members govern it <script>alert("x")</script> & \'quoted\' — zażółć'
SITE = "zelenalhota.cz"


def _expire(app, name: str) -> None:
    """Every session of ``name`` ends by time: as if 12 hours had passed."""
    from csei_nlp.store.appdb import sessions

    db = app.extensions["csei"].db
    uid = next(u["id"] for u in db.users() if u["name"] == name)
    with db.engine.begin() as c:
        c.execute(sessions.update().where(sessions.c.user_id == uid).values(expires="2000-01-01T00:00:00+00:00"))


def _revoke(app, name: str) -> None:
    """Every session of ``name`` is deleted (what an admin disabling the account does)."""
    db = app.extensions["csei"].db
    db.set_active(name, False)
    db.set_active(name, True)


def _sign_in(client, location: str, name: str = "alice"):
    """Follow a redirect to the sign-in page and sign in there (the form posts to the same URL)."""
    page = client.get(location)
    assert page.status_code == 200 and 'id="login-form"' in page.text
    return page, client.post(location, data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)})


def _notice(html: str) -> dict | None:
    m = re.search(r'id="draft-notice" role="status" data-action="([^"]*)" data-fields=\'([^\']*)\'', html)
    return {"action": unescape(m.group(1)), "fields": json.loads(unescape(m.group(2)))} if m else None


@pytest.mark.parametrize("end", [_expire, _revoke])
def test_a_decision_sent_after_the_sign_in_ended_comes_back_to_send_again(app, end):
    c = app.test_client()
    tok = login(c, "alice")
    assert c.get(f"/candidate/{SITE}?cee=1").status_code == 200
    end(app, "alice")
    r = c.post(f"/candidate/{SITE}/decision",
               data={"decision": "reject", "note": NOTE, "csrf_token": tok, "ctx": "cee=1"})
    assert r.status_code == 303  # not a 400, not a 401: to the sign-in page, nothing saved
    assert app.extensions["csei"].db.all_decisions() == []
    target = urlsplit(r.headers["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == [f"/candidate/{SITE}?cee=1"]
    page, r = _sign_in(c, r.headers["Location"])
    assert "sign-in had ended, so nothing was saved" in page.text
    assert r.status_code == 302 and r.headers["Location"] == f"/candidate/{SITE}?cee=1"

    page = c.get(r.headers["Location"]).text
    kept = _notice(page)
    assert kept == {"action": f"/candidate/{SITE}/decision",
                    "fields": {"decision": ["reject"], "note": [NOTE], "ctx": ["cee=1"]}}
    assert "<script>alert" not in page  # the typed text only ever reaches the page escaped
    assert "csrf" not in json.dumps(kept["fields"])
    assert app.extensions["csei"].db.all_decisions() == []  # shown again, not sent
    assert _notice(c.get(f"/candidate/{SITE}?cee=1").text) is None  # shown once

    # the user sends it again (with the new sign-in's token): saved
    tok = csrf_of(page)
    r = c.post(f"/candidate/{SITE}/decision", data={**{k: v[0] for k, v in kept["fields"].items()},
                                                     "csrf_token": tok})
    assert r.status_code == 302
    [d] = app.extensions["csei"].db.all_decisions()
    assert (d["site"], d["decision"], d["note"], d["user_name"]) == (SITE, "reject", NOTE, "alice")


def test_the_kept_form_waits_for_its_page_and_only_for_its_user(app):
    c = app.test_client()
    tok = login(c, "alice")
    _revoke(app, "alice")
    r = c.post("/ranking/decide", data={"decision": "unsure", "note": "check members", "csrf_token": tok,
                                        "ctx": "q=klaster", "expected": "2"})
    assert r.status_code == 303 and parse_qs(urlsplit(r.headers["Location"]).query)["next"] == ["/ranking?q=klaster"]
    # another user signs in on this browser: never sees alice's text, and it is gone
    _, r = _sign_in(c, r.headers["Location"], "bob")
    page = c.get(r.headers["Location"]).text
    assert _notice(page) is None and "check members" not in page
    login(c, "alice")
    assert _notice(c.get("/ranking?q=klaster").text) is None

    # alice's own: it waits while she visits another page first
    tok = csrf_of(c.get("/ranking").text)
    _expire(app, "alice")
    r = c.post("/ranking/decide", data={"decision": "unsure", "note": "check members", "csrf_token": tok,
                                        "ctx": "q=klaster", "expected": "2"})
    _sign_in(c, r.headers["Location"])
    assert _notice(c.get("/overview").text) is None
    assert _notice(c.get("/ranking?q=klaster").text)["fields"]["note"] == ["check members"]


def test_a_get_after_the_sign_in_ended_goes_to_sign_in_and_back(app):
    c = app.test_client()
    login(c, "alice")
    _expire(app, "alice")
    r = c.get("/ranking?cee=1&sort=name&page=1")
    assert r.status_code == 302
    target = urlsplit(r.headers["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == ["/ranking?cee=1&sort=name&page=1"]
    page, r = _sign_in(c, r.headers["Location"])
    assert "Your sign-in has ended" in page.text
    assert r.headers["Location"] == "/ranking?cee=1&sort=name&page=1"
    assert c.get(r.headers["Location"]).status_code == 200


@pytest.mark.parametrize("nxt", [
    "//evil.example/x", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "http:evil.example",
    "javascript:alert(1)", "/\t/evil.example", "/\n/evil.example", "%2F%2Fevil.example", "evil.example",
    "///evil.example", "/\x00/x", "",
])
def test_next_never_leaves_the_site(app, nxt):
    c = app.test_client()
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", query_string={"next": nxt}, data={"name": "alice", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 302 and r.headers["Location"] == "/", (nxt, r.headers["Location"])


def test_next_to_a_page_of_the_site_is_followed(app):
    c = app.test_client()
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", query_string={"next": "/candidate/zelenalhota.cz?cee=1&sort=name"},
               data={"name": "alice", "password": PASSWORD, "csrf_token": tok})
    assert r.headers["Location"] == "/candidate/zelenalhota.cz?cee=1&sort=name"


def test_what_is_never_kept(app):
    from csei_nlp.web import drafts
    from werkzeug.datastructures import MultiDict

    # the token and passwords never; a form over the limits not at all
    kept = drafts.form_fields(MultiDict([("csrf_token", "t"), ("password", "p"), ("old", "o"), ("new", "n"),
                                         ("again", "n"), ("note", "a"), ("label", "x"), ("label", "y")]))
    assert kept == {"note": ["a"], "label": ["x", "y"]}
    assert drafts.form_fields(MultiDict([("note", "x" * (drafts.MAX_VALUE_CHARS + 1))])) is None
    assert drafts.form_fields(MultiDict([("label", "x")] * (drafts.MAX_VALUES + 1))) is None

    c = app.test_client()
    tok = login(c, "alice")
    # a password change sent after the sign-in ended: to sign in and back, nothing of it kept
    _revoke(app, "alice")
    r = c.post("/account", data={"csrf_token": tok, "old": PASSWORD, "new": "a new secret 1",
                                 "again": "a new secret 1"}, headers={"Referer": "http://localhost/account"})
    assert r.status_code == 303 and parse_qs(urlsplit(r.headers["Location"]).query)["next"] == ["/account"]
    page, r = _sign_in(c, r.headers["Location"])
    assert "send the form once more" in page.text
    page = c.get(r.headers["Location"]).text
    assert _notice(page) is None and "a new secret" not in page
    # a note over the limits: refused like the rest, and said so
    tok = csrf_of(page)
    _expire(app, "alice")
    r = c.post(f"/candidate/{SITE}/decision", data={"decision": "accept", "note": "x" * 20_000, "csrf_token": tok})
    page, r = _sign_in(c, r.headers["Location"])
    assert "send the form once more" in page.text and _notice(c.get(r.headers["Location"]).text) is None


def test_a_forged_write_is_still_refused_and_nothing_is_kept(app):
    c = app.test_client()
    login(c, "alice")
    _expire(app, "alice")
    r = c.post(f"/candidate/{SITE}/decision", data={"decision": "accept", "note": "planted", "csrf_token": "forged"})
    assert r.status_code == 400 and "security token" in r.text
    r = c.get("/ranking")
    _, r = _sign_in(c, r.headers["Location"])
    assert "planted" not in c.get(f"/candidate/{SITE}").text
    # a foreign Referer is no way back either: home after signing in
    tok = csrf_of(c.get("/guidelines").text)
    _expire(app, "alice")
    r = c.post("/annotate/undo", data={"csrf_token": tok}, headers={"Referer": "https://evil.example/annotate"})
    assert r.status_code == 303 and parse_qs(urlsplit(r.headers["Location"]).query)["next"] == ["/"]


def test_the_cookie_outlives_the_sign_in(app):
    """The cookie (a session id and the CSRF token, nothing else that opens anything) lasts 30 days, so a
    form sent after the 12-hour sign-in ended is still known to come from this browser."""
    from datetime import datetime, timedelta, timezone
    from email.utils import parsedate_to_datetime

    c = app.test_client()
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": tok})
    expires = re.search(r"Expires=([^;]+)", r.headers["Set-Cookie"]).group(1)
    assert parsedate_to_datetime(expires) > datetime.now(timezone.utc) + timedelta(days=29)
