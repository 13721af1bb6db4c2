"""Two walks with no mouse but to sign in, in headless Chromium.

An analyst reviews 20 candidates in the ranking's order by keyboard; an
annotator labels 20 passages, undoes one and corrects it, and an admin
adjudicates a conflict by keyboard.
"""
from __future__ import annotations

import pytest

from conftest import PASSWORD, make_users, serving
from test_browser import CHROMIUM, browser_page, suggestions_off  # noqa: F401  (the fixture)


def _login(page, base, name):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")


@pytest.fixture()
def big_app(scan_out, tmp_path):
    """The scanned store with 30 more candidates (copies of a real one under other sites), for a long walk."""
    from csei_nlp import config
    from csei_nlp.store.sqlite import Store
    from csei_nlp.web.app import create_app

    with Store(scan_out) as store:
        cands = store.candidates()
        run_id = cands[0]["run_id"]
        extra = [{**cands[0], "site": f"walk-{i:02d}.example.org", "name": f"Walk cluster {i:02d}",
                  "score": round(0.3 - i / 1000, 4)} for i in range(30)]
        allc = sorted(cands + extra, key=lambda c: -c["score"])
        for rank, c in enumerate(allc, 1):
            c["rank"] = rank
        store.replace_candidates(allc, run_id)
    cfg = config.load(overrides={"annotate": {"overlap": 1.0}})
    a = create_app(scan_out, cfg, annotations_dir=tmp_path / "annotations", models_dir=tmp_path / "no-models")
    make_users(a)
    yield a
    a.extensions["csei"].db.dispose()


@pytest.fixture()
def big_server(big_app):
    with serving(big_app) as url:
        yield url


def test_an_analyst_reviews_20_candidates_by_keyboard(big_app, big_server, browser_page):  # noqa: F811
    page, base = browser_page, big_server
    _login(page, base, "alice")
    page.wait_for_url(base + "/ranking")
    page.keyboard.press("n")  # the first candidate
    page.wait_for_url("**/candidate/**")
    seen = []
    for i in range(20):
        site = page.url.split("/candidate/", 1)[1].split("?")[0]
        seen.append(site)
        page.keyboard.press("ars"[i % 3])  # accept / reject / unsure: saved, and on to the next
        page.wait_for_url(lambda url, s=site: f"/candidate/{s}" not in url)
    assert len(set(seen)) == 20
    latest = big_app.extensions["csei"].db.latest_decisions()
    assert [latest[s]["decision"] for s in seen] == [("accept", "reject", "unsure")[i % 3] for i in range(20)]
    assert page.dialogs == []


def test_an_annotator_labels_20_undoes_and_corrects_one_and_an_admin_adjudicates(big_app, big_server,
                                                                                  browser_page):  # noqa: F811
    from csei_nlp.annotate import queue

    page, base = browser_page, big_server
    st = big_app.extensions["csei"]
    _login(page, base, "nina")
    page.wait_for_url(base + "/annotate")
    suggestions_off(page)
    done = []
    for i in range(20):
        page.wait_for_selector("html[data-js='ready']")  # keys pressed before app.js ran would be lost
        pid = page.get_attribute("#annotate-form", "data-passage")
        for k in (["1", "q"] if i % 2 else ["5", "a"]):
            page.keyboard.press(k)
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#annotate-form:not([data-passage='{pid}'])")
        done.append(pid)
    assert len(set(done)) == 20
    page.wait_for_selector("html[data-js='ready']")
    page.keyboard.press("u")  # undo the last: it comes back with its answer ticked
    page.wait_for_selector(f"#annotate-form[data-passage='{done[-1]}']")
    page.wait_for_selector("html[data-js='ready']")
    assert page.locator("#restored").count() == 1
    assert page.locator("#annotate-form input[name=label]:checked").count() == 2
    page.keyboard.press("r")  # correct it: add public authority, then save
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{done[-1]}'])")
    assert queue.live_labels(st.db)[done[-1]]["nina"]["helix"] == ["public_authority", "social_economy"]
    assert sum(1 for by in queue.live_labels(st.db).values() if "nina" in by) == 20

    # a second annotator disagrees on the first passage; the admin resolves it by keyboard
    page.context.clear_cookies()
    _login(page, base, "olek")
    page.wait_for_url(base + "/annotate")
    suggestions_off(page)
    page.wait_for_selector("html[data-js='ready']")
    pid = page.get_attribute("#annotate-form", "data-passage")
    assert pid == done[0]  # overlap 1.0: the same passages, blind
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{pid}'])")
    page.context.clear_cookies()
    _login(page, base, "root")
    page.wait_for_url(base + "/ranking")
    page.goto(base + "/agreement")
    href = page.get_attribute("#conflict-1 a[href*='/adjudicate/']", "href")
    assert href.endswith(pid)
    page.goto(base + href)  # the conflict's "adjudicate" link
    assert page.locator("#annotate-form input[name=label]:checked").count() == 0  # nothing agreed by both
    for k in ("1", "5", "a"):
        page.keyboard.press(k)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/agreement")
    adj = queue.adjudications(st.db)[pid]["labels"]
    assert adj["innovation"] == ["ecological", "economic"] and adj["criteria"] == ["cooperating_group"]
