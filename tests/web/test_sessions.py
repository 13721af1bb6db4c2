"""Server-side sessions: signing out, changing a password or disabling an account ends sessions for real."""
from __future__ import annotations

from conftest import PASSWORD, csrf_of, login

PAGES = ("/ranking", "/overview", "/decisions", "/annotate", "/guidelines", "/agreement", "/account")


def _cookie(client) -> str:
    return client.get_cookie("csei_session").value


def _opens(app, cookie: str, path: str = "/ranking") -> int:
    thief = app.test_client()
    thief.set_cookie("csei_session", cookie)
    return thief.get(path).status_code


def test_a_cookie_captured_before_sign_out_opens_nothing_after(app):
    c = app.test_client()
    tok = login(c, "alice")
    stolen = _cookie(c)
    assert _opens(app, stolen) == 200
    assert c.post("/logout", data={"csrf_token": tok}).status_code == 302
    for path in PAGES:
        assert _opens(app, stolen, path) == 302, path  # back to the sign-in page
    assert "/login" in app.test_client().get("/ranking").headers["Location"]


def test_changing_the_password_ends_every_session(app):
    c, other = app.test_client(), app.test_client()
    tok = login(c, "nina")
    login(other, "nina")
    r = c.post("/account", data={"csrf_token": tok, "old": "wrong one", "new": "new password 1",
                                 "again": "new password 1"})
    assert r.status_code == 400 and "current password is wrong" in r.text
    r = c.post("/account", data={"csrf_token": tok, "old": PASSWORD, "new": "new password 1",
                                 "again": "new password 2"})
    assert r.status_code == 400 and "differ" in r.text
    r = c.post("/account", data={"csrf_token": tok, "old": PASSWORD, "new": "new password 1",
                                 "again": "new password 1"})
    assert r.status_code == 302
    assert other.get("/annotate").status_code == 302  # the other browser is signed out too
    fresh = app.test_client()
    tok = csrf_of(fresh.get("/login").text)
    assert fresh.post("/login", data={"name": "nina", "password": PASSWORD, "csrf_token": tok}).status_code == 401
    login(fresh, "nina", "new password 1")
    assert fresh.get("/annotate").status_code == 200


def test_an_admin_disables_an_account_and_it_is_signed_out_at_once(app):
    admin, alice = app.test_client(), app.test_client()
    tok = login(admin, "root")
    login(alice, "alice")
    assert alice.get("/ranking").status_code == 200
    assert app.test_client().get("/users").status_code == 302
    assert alice.get("/users").status_code == 403  # analysts do not manage accounts
    assert admin.post("/users", data={"csrf_token": tok, "name": "root", "action": "disable"}).status_code == 400
    assert admin.post("/users", data={"csrf_token": tok, "name": "alice", "action": "disable"}).status_code == 302
    assert "disabled" in admin.get("/users").text
    assert alice.get("/ranking").status_code == 302
    blocked = app.test_client()
    t = csrf_of(blocked.get("/login").text)
    assert blocked.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": t}).status_code == 401
    assert admin.post("/users", data={"csrf_token": tok, "name": "alice", "action": "enable"}).status_code == 302
    login(blocked, "alice")
    assert blocked.get("/ranking").status_code == 200


def test_users_disable_and_enable_on_the_command_line(app, scan_out, capsys):
    from csei_nlp.cli import main

    assert main(["users", "disable", "olek", "--db", str(scan_out)]) == 0
    assert "signed out everywhere" in capsys.readouterr().out
    assert main(["users", "list", "--db", str(scan_out)]) == 0
    assert "olek\tannotator" in capsys.readouterr().out
    assert main(["users", "disable", "nobody", "--db", str(scan_out)]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
