"""An annotator's own tools in headless Chromium.

The model's suggestions come pre-ticked with their probability and are turned
off with one click; a passage is flagged with a comment; a past label is
corrected from "My labels" by keyboard; an admin reads the flag, whose
planted ``<script>`` stays text.  By keyboard alone, a passage is flagged (X,
a reason, Enter) and another ignored (I), and the flag is labelled instead
from "My labels".
"""
from __future__ import annotations

from conftest import PASSWORD
from test_annotators import SUGGESTED, set_probabilities, single_annotation
from test_browser import browser_page  # noqa: F401  (the fixture)

CHECKED = "#annotate-form input[name=label]:checked"


def _login(page, base, name):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")


def _save_and_wait(page, pid):
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{pid}'])")


def test_an_annotator_uses_suggestions_flags_a_passage_and_corrects_a_label(app, scan_out, live_server,
                                                                             browser_page):  # noqa: F811
    from csei_nlp.annotate import queue

    set_probabilities(scan_out)
    single_annotation(app)
    page, base = browser_page, live_server
    st = app.extensions["csei"]
    _login(page, base, "nina")
    page.wait_for_url(base + "/annotate")

    # the model's suggestions: pre-ticked, a probability beside every label
    assert {page.get_attribute(f"#annotate-form input[value='{t}']", "value") for t in SUGGESTED} == SUGGESTED
    assert page.locator(CHECKED).count() == len(SUGGESTED)
    assert page.locator("label.toggle .prob").count() == 14
    assert page.inner_text("label.toggle:has(input[value='innovation:social']) .prob") == "91%"
    first = page.get_attribute("#annotate-form", "data-passage")
    page.keyboard.press("1")  # she adds "economic" to what the model suggested
    _save_and_wait(page, first)
    assert queue.live_labels(st.db)[first]["nina"] == {
        "innovation": ["ecological", "economic", "social"], "helix": [], "criteria": ["cooperating_group"]}

    # one click turns them off: the same passage, nothing ticked, no percentages
    second = page.get_attribute("#annotate-form", "data-passage")
    with page.expect_navigation():
        page.click("#show-suggestions")
    assert "Model suggestions are off" in page.inner_text("main")
    assert page.get_attribute("#annotate-form", "data-passage") == second
    assert page.locator(CHECKED).count() == 0 and page.locator(".prob").count() == 0
    for k in ("2", "q"):
        page.keyboard.press(k)
    _save_and_wait(page, second)

    # flag the next one as bad text, with a comment that carries a planted script
    third = page.get_attribute("#annotate-form", "data-passage")
    page.click("#flag-panel summary")
    page.check("#reason-bad_text")
    page.fill("#comment", "<script>window.__pwned=1</script> garbled")
    page.click("#flag")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{third}'])")
    assert "Flagged the passage" in page.inner_text("main")

    # My labels: her flag and her two labels, newest first; she corrects the first label by keyboard
    page.click("#nav-my-labels")
    page.wait_for_url(base + "/annotate/mine")
    rows = page.locator("tr.mine")
    assert [rows.nth(i).get_attribute("data-passage") for i in range(rows.count())] == [third, second, first]
    assert rows.nth(0).get_attribute("data-action") == "flag" and "bad text" in rows.nth(0).inner_text()
    page.click(f"tr.mine[data-passage='{first}'] a.edit")
    page.wait_for_selector("#editing")
    assert page.locator(CHECKED).count() == 4  # her answer, not the model's
    page.keyboard.press("1")  # economic off again
    page.keyboard.press("w")  # business on
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/annotate/mine")
    assert "Saved your corrected labels" in page.inner_text("main")
    assert rows.nth(0).get_attribute("data-passage") == first  # the correction is now her latest answer
    top = rows.nth(0).inner_text()
    assert "corrected" in top and "business" in top and "economic" not in top
    assert queue.live_labels(st.db)[first]["nina"] == {
        "innovation": ["ecological", "social"], "helix": ["business"], "criteria": ["cooperating_group"]}
    # Escape leaves a correction unsaved
    page.click(f"tr.mine[data-passage='{second}'] a.edit")
    page.wait_for_selector("#editing")
    page.keyboard.press("a")
    page.keyboard.press("Escape")
    page.wait_for_url(base + "/annotate/mine")
    assert queue.live_labels(st.db)[second]["nina"]["criteria"] == []

    # an admin reads the flag and its comment, as text
    page.context.clear_cookies()
    _login(page, base, "root")
    page.wait_for_url(base + "/ranking")
    page.click("#nav-flags")
    page.wait_for_url(base + "/flags")
    row = page.locator(f"tr.flag-row[data-passage='{third}']")
    assert "bad text" in row.inner_text()
    assert "<script>window.__pwned=1</script> garbled" in row.locator("td.comment").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []


def _ready(page):
    page.wait_for_selector("html[data-js='ready']")  # keys pressed before app.js ran would be lost


def test_an_annotator_flags_and_ignores_by_keyboard_then_labels_the_flag_instead(app, live_server,
                                                                                browser_page):  # noqa: F811
    """X opens the flag reasons (a flag needs one) and Enter flags with the chosen one, never saving a
    label; Esc backs out; I ignores. Both appear in My labels, where the flag is labelled instead."""
    from test_browser import suggestions_off

    from csei_nlp.annotate import queue

    page, base = browser_page, live_server
    st = app.extensions["csei"]
    _login(page, base, "nina")
    page.wait_for_url(base + "/annotate")
    suggestions_off(page)
    _ready(page)
    # the keys are shown like the others
    assert page.text_content("#flag kbd") == "X" and page.text_content("#ignore kbd") == "I"
    assert [page.inner_text(f"#flag-panel summary kbd >> nth={i}") for i in (0, 1)] == ["X", "I"]

    flagged = page.get_attribute("#annotate-form", "data-passage")
    page.keyboard.press("1")  # a label ticked by mistake: the flag must not save it
    page.keyboard.press("x")
    assert page.get_attribute("#flag-panel", "open") is not None
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("ArrowDown")  # the second reason
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{flagged}'])")
    assert "Flagged the passage" in page.inner_text("main")
    flags = queue.flags(st.db, st.store_path, passage_id=flagged)
    assert [(e["action"], e["reason"]) for e in flags] == [("flag", "not_passage")]
    assert flagged not in queue.live_labels(st.db)

    _ready(page)
    ignored = page.get_attribute("#annotate-form", "data-passage")
    page.keyboard.press("x")
    page.keyboard.press("Escape")  # backs out: no flag, the panel closes, the keys label again
    assert page.get_attribute("#flag-panel", "open") is None
    assert page.get_attribute("#annotate-form", "data-passage") == ignored
    page.keyboard.press("i")
    page.wait_for_selector(f"#annotate-form:not([data-passage='{ignored}'])")
    assert "Ignored the passage" in page.inner_text("main")
    assert queue.flags(st.db, st.store_path, passage_id=ignored) == []
    assert queue.stats(st.db, next(u for u in st.db.users() if u["name"] == "nina"))["my_set_aside"] == 2

    # My labels lists both, newest first, marked; she labels the flagged one instead by keyboard
    page.click("#nav-my-labels")
    page.wait_for_url(base + "/annotate/mine")
    rows = page.locator("tr.mine")
    assert [(rows.nth(i).get_attribute("data-passage"), rows.nth(i).get_attribute("data-action"))
            for i in range(rows.count())] == [(ignored, "ignore"), (flagged, "flag")]
    assert "flagged" in rows.nth(1).inner_text() and "not a passage" in rows.nth(1).inner_text()
    page.click(f"tr.mine[data-passage='{flagged}'] a.edit")
    page.wait_for_selector("#editing[data-replaces='flag']")
    _ready(page)
    assert page.locator(CHECKED).count() == 0
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/annotate/mine")
    assert "they replace your flag" in page.inner_text("main")
    assert rows.nth(0).get_attribute("data-passage") == flagged and rows.nth(0).get_attribute("data-action") == "label"
    assert queue.live_labels(st.db)[flagged]["nina"]["innovation"] == ["social"]
    assert page.dialogs == []
