"""The real app in headless Chromium (Debian's chromium driven by Python Playwright).

Log in, filter the ranking to CEE, open a candidate, check highlighted
evidence and that a planted <script> stays inert, decide and see the decision
in the export, annotate three passages by keyboard, undo one, see the queue move.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture()
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (scripts/system-deps.sh installs it)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        yield page
        browser.close()


def _login(page, base, name):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")


def suggestions_off(page):
    """Untick "Show model suggestions" (it applies itself): the form starts empty, so a walk that
    counts its own key presses is not thrown by labels the model pre-ticked (the scan is tagged)."""
    if page.is_checked("#show-suggestions"):
        with page.expect_navigation():
            page.click("#show-suggestions")
    assert page.locator("#annotate-form input[name=label]:checked").count() == 0


def test_analyst_and_annotator_in_chromium(app, live_server, browser_page):
    page, base = browser_page, live_server
    _login(page, base, "alice")
    page.wait_for_url(base + "/ranking")
    all_sites = page.locator("table.rank a.cand").count()
    page.check("#f-cee")
    page.click("#apply")
    page.wait_for_url("**/ranking?*cee=1*")
    rows = page.locator("table.rank tbody tr")
    assert 0 < rows.count() < all_sites
    assert page.locator("text=gruenes-wiesenthal.de").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ranking.png"), full_page=False)

    page.click("a.cand:has-text('Zielony')")
    page.wait_for_url("**/candidate/klaster-zielonydol.pl?cee=1")
    assert page.locator("blockquote.passage mark").count() > 0
    assert "<script>window.__pwned=1" in page.inner_text("main")  # shown as text ...
    assert page.evaluate("typeof window.__pwned") == "undefined"  # ... never run
    assert page.dialogs == []

    # keyboard only from here: the previous candidate in the filtered order, reject it, and the next one is
    # this one again; accept it with a note
    prev_href = page.get_attribute("#prev-candidate", "href")
    page.keyboard.press("p")
    page.wait_for_url("**" + prev_href)
    page.keyboard.press("r")  # reject: saved, and on to the next in the order
    page.wait_for_url("**/candidate/klaster-zielonydol.pl?cee=1")
    assert "saved for" in page.inner_text("main")
    page.fill("textarea[name=note]", "members govern it; social + ecological")
    page.keyboard.press("Escape")  # leave the note; "a" then accepts, saves and moves on
    with page.expect_navigation():  # the save always answers with a redirect: wait for it, not a race
        page.keyboard.press("a")
    if "/candidate/klaster-zielonydol.pl" not in page.url:
        page.keyboard.press("p")
        page.wait_for_url("**/candidate/klaster-zielonydol.pl?cee=1")
    page.wait_for_selector("ol.history .d-accept")
    assert "members govern it" in page.inner_text("ol.history")
    page.goto(base + "/decisions")
    with page.expect_download() as dl:
        page.click("#export-csv")
    exported = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text("utf-8"))))
    assert [(r["site"], r["decision"], r["user_name"]) for r in exported if r["decision"] == "accept"] == [
        ("klaster-zielonydol.pl", "accept", "alice")]
    assert len(exported) == 2

    page.context.clear_cookies()
    _login(page, base, "nina")
    page.wait_for_url(base + "/annotate")
    suggestions_off(page)
    done = []
    for keys in (["2", "q"], ["a"], ["4", "e", "s"]):
        pid = page.get_attribute("#annotate-form", "data-passage")
        for k in keys:
            page.keyboard.press(k)
        checked = page.locator("#annotate-form input[name=label]:checked").count()
        assert checked == len(keys)
        if len(done) == 2:
            page.screenshot(path=str(SHOTS / "annotate.png"), full_page=False)
        page.keyboard.press("Enter")
        # selector waits, not wait_for_function: the app's CSP rightly forbids eval in the page
        page.wait_for_selector(f"#annotate-form:not([data-passage='{pid}'])")
        done.append(pid)
    assert len(set(done)) == 3
    assert page.inner_text("#n-mine") == "3"
    page.keyboard.press("u")
    page.wait_for_selector(f"#annotate-form[data-passage='{done[-1]}']")
    assert page.inner_text("#n-mine") == "2"
    assert page.dialogs == []
    st = app.extensions["csei"]
    from csei_nlp.annotate import log as annolog
    resolved = {r["passage_id"]: r for r in annolog.resolve(st.annotations_dir)}
    assert set(resolved) == set(done[:2])
    assert resolved[done[0]]["labels"]["innovation"] == ["social"]
    assert resolved[done[0]]["labels"]["helix"] == ["social_economy"]
