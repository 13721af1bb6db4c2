"""Two walks in headless Chromium: paging the ranking by number, and a sign-in that ends while a note is typed."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import PASSWORD, serving
from test_browser import browser_page  # noqa: F401  (the fixture)
from test_ranking_pages import paged_app  # noqa: F401  (the fixture: 37 candidates, 4 to a page)
from test_session_resume import _expire


def _login(page, base, name="alice"):
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")


def _sign_in(page, base):
    """Open the sign-in page, sign in as alice and land on the ranking."""
    page.goto(base + "/login")
    _login(page, base)
    page.wait_for_url(base + "/ranking")


@pytest.fixture()
def paged_server(paged_app):  # noqa: F811
    with serving(paged_app) as url:
        yield url


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_paging_the_ranking_by_number_keeps_the_filters(paged_app, paged_server, browser_page):  # noqa: F811
    page, base = browser_page, paged_server
    _sign_in(page, base)
    page.fill("input[name=q]", "walk")
    page.select_option("select[name=sort]", "name")
    page.click("#apply")
    page.wait_for_url("**/ranking?*q=walk*")
    assert page.inner_text("#shown") == "Showing 1–4 of 30"
    page.click("#pager a.pnum:text-is('3')")
    page.wait_for_url("**page=3*")
    assert _query(page.url) == {"q": ["walk"], "sort": ["name"], "page": ["3"]}
    assert page.inner_text("#shown") == "Showing 9–12 of 30"
    assert page.inner_text("#pager [aria-current=page]") == "3"
    page.click("#last-page")
    page.wait_for_url("**page=8*")
    assert page.inner_text("#shown") == "Showing 29–30 of 30"
    assert page.locator("#next-page").count() == 0
    page.click("#prev-page")
    page.wait_for_url("**page=7*")
    assert page.inner_text("#shown") == "Showing 25–28 of 30"
    names = page.locator("table.rank a.cand").all_inner_texts()
    assert names == sorted(names) and len(names) == 4
    # open the third candidate of the page, then Esc: back on this page, the candidate marked
    site = page.locator("table.rank a.cand").nth(2).get_attribute("href").split("/candidate/", 1)[1].split("?")[0]
    page.locator("table.rank a.cand").nth(2).click()
    page.wait_for_url(f"**/candidate/{site}?*")
    page.keyboard.press("Escape")
    page.wait_for_url("**/ranking?*")
    assert page.inner_text("#shown") == "Showing 25–28 of 30"
    assert site in page.inner_text("tr#here")
    # a hand-edited page number: a page and a message, never an error
    page.goto(base + "/ranking?q=walk&sort=name&page=999")
    assert page.inner_text("#shown") == "Showing 29–30 of 30"
    assert "There is no page 999" in page.inner_text("main")
    page.click("#first-page")
    page.wait_for_url(lambda url: "page=" not in url and "q=walk" in url)
    assert page.inner_text("#shown") == "Showing 1–4 of 30"
    assert page.dialogs == []


def test_a_note_typed_when_the_sign_in_ends_survives_signing_in_again(app, live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server
    db = app.extensions["csei"].db
    _sign_in(page, base)
    page.goto(base + "/candidate/zelenalhota.cz?cee=1")
    note = "members govern it <b>not bold</b> & a second line\nwith the evidence"
    page.check("#decision-form input[value=unsure]")
    page.fill("#decision-form textarea[name=note]", note)
    _expire(app, "alice")  # twelve hours later, the note still unsent
    page.click("#decision-form button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    assert "sign-in had ended, so nothing was saved" in page.inner_text("main")
    assert db.all_decisions() == []
    _login(page, base)
    page.wait_for_url("**/candidate/zelenalhota.cz?cee=1")
    page.wait_for_selector("#decision-form.restored")
    assert page.input_value("#decision-form textarea[name=note]") == note
    assert page.is_checked("#decision-form input[value=unsure]")
    assert page.locator("#draft-notice").is_visible() and page.locator("#draft-lost").is_hidden()
    assert db.all_decisions() == []  # back in the form, not sent: the user sends it
    page.click("#decision-form button[type=submit]")
    page.wait_for_load_state()
    [d] = db.all_decisions()
    # (a browser sends a textarea's line breaks as CRLF)
    assert (d["site"], d["decision"], d["note"].replace("\r\n", "\n"), d["user_name"]) == (
        "zelenalhota.cz", "unsure", note, "alice")
    assert page.dialogs == []


def test_a_kept_form_whose_page_changed_meanwhile_is_shown_as_text(app, live_server, browser_page):  # noqa: F811
    """The bulk form counts its selection: if another analyst decided meanwhile, it is not filled in (it would
    decide a different set); what was typed is shown as text instead, markup and all, never run."""
    page, base = browser_page, live_server
    db = app.extensions["csei"].db
    _sign_in(page, base)
    page.goto(base + "/ranking?decision=pending&q=klaster")
    page.click("details.bulk summary")
    note = 'all industrial <img src=x id="planted"> "really"'
    page.check("#bulk-form input[value=reject]")
    page.fill("#bulk-form input[name=note]", note)
    _expire(app, "alice")
    bob = next(u for u in db.users() if u["name"] == "bob")
    site = page.locator("table.rank a.cand").first.get_attribute("href").split("/candidate/", 1)[1].split("?")[0]
    db.add_decision(site, "accept", "", bob, "m", "r")  # one candidate less is pending now
    page.click("#bulk-form button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    _login(page, base)
    page.wait_for_url("**/ranking?*")
    page.wait_for_selector("#draft-lost:not([hidden])")
    assert f"note: {note}" in page.inner_text("#draft-text")
    assert page.locator("#planted").count() == 0  # text, not markup
    assert page.locator("#bulk-form.restored").count() == 0 and page.input_value("#bulk-form input[name=note]") == ""
    assert [d["user_name"] for d in db.all_decisions()] == ["bob"]  # nothing decided for alice
    assert page.dialogs == []
