"""Annotators' own tools (issue 13, part 3): their past labels and corrections, flags, ignores and
comments, and the model's suggestions pre-ticked with their probability."""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace

from conftest import login, make_users

from csei_nlp.annotate import agreement, log as annolog, queue

# the model's probabilities written into every passage of the test store: with no model cards
# (thresholds 0.5) the suggestions pre-tick social, ecological and cooperating group
PROBS = {
    "innovation": {"economic": 0.2, "social": 0.91, "technological": 0.05, "governance": 0.3, "ecological": 0.62},
    "helix": {"social_economy": 0.4, "business": 0.45, "research_education": 0.1, "public_authority": 0.05,
              "civil_society": 0.3},
    "criteria": {"cooperating_group": 0.75, "member_governance": 0.2, "geographic_proximity": 0.49,
                 "interconnection": 0.1},
}
SUGGESTED = {"innovation:social", "innovation:ecological", "criteria:cooperating_group"}


def _state(app):
    return app.extensions["csei"]


def _offered(page: str) -> str:
    return re.search(r'name="passage_id" value="([^"]+)"', page).group(1)


def _ticked(page: str) -> set[str]:
    return set(re.findall(r'value="([a-z_]+:[a-z_]+)" data-key="\w" checked', page))


def _answer(c, tok, action="label", labels=(), **extra) -> str:
    """Answer the passage the queue offers; returns its id."""
    pid = _offered(c.get("/annotate").text)
    r = c.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": action, "label": list(labels),
                                  **extra})
    assert r.status_code == 302, r.text
    return pid


def _events(app, **where):
    from sqlalchemy import select

    from csei_nlp.store.appdb import annotation_events as ev

    with _state(app).db.engine.connect() as conn:
        q = select(ev).order_by(ev.c.id)
        for k, v in where.items():
            q = q.where(ev.c[k] == v)
        return [dict(r) for r in conn.execute(q).mappings()]


def single_annotation(app) -> None:
    """No double-annotated items in the queue: suggestions show on every passage (they are withheld on
    the agreement sample)."""
    st = _state(app)
    st.params = replace(st.params, overlap=0.0)


def set_probabilities(out_dir, probs=PROBS) -> None:
    """Give every passage of the scan store the same label probabilities (what a tagged scan stores)."""
    conn = sqlite3.connect(out_dir / "csei.sqlite")
    try:
        conn.execute("UPDATE passages SET labels=?", (json.dumps(probs),))
        conn.commit()
    finally:
        conn.close()


# --- My labels and corrections ------------------------------------------------------------------

def test_my_labels_lists_ones_own_labels_newest_first_and_pages(app, monkeypatch):
    from csei_nlp.web.blueprints import annotate as bp

    st = _state(app)
    c = app.test_client()
    tok = login(c, "nina")
    done = [_answer(c, tok, labels=labs) for labs in (["innovation:social"], ["helix:business"],
                                                       ["criteria:interconnection", "innovation:economic"])]
    _answer(c, tok, action="skip")  # skips are not labels
    page = c.get("/annotate/mine").text
    assert re.findall(r'class="mine" data-passage="([^"]+)"', page) == done[::-1]
    assert 'id="n-my-labels">3 passages' in page
    text = queue.passage_with_context(st.store_path, done[0])["text"]
    assert text[:40].replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;") in page
    assert '<span class="chip helix">business</span>' in page and page.count('class="edit"') == 3
    assert "UTC" in page
    # paged, newest first
    monkeypatch.setattr(bp, "MY_LABELS_PAGE", 2)
    first = c.get("/annotate/mine").text
    assert re.findall(r'class="mine" data-passage="([^"]+)"', first) == done[:0:-1]
    older = re.search(r'href="([^"]+)" id="older"', first).group(1).replace("&amp;", "&")
    second = c.get(older).text
    assert re.findall(r'class="mine" data-passage="([^"]+)"', second) == [done[0]]
    assert 'id="older"' not in second and 'id="newest"' in second
    # another annotator sees only their own (none)
    c2 = app.test_client()
    login(c2, "olek")
    page = c2.get("/annotate/mine").text
    assert 'id="no-labels"' in page and not any(pid in page for pid in done)


def test_a_correction_reopens_the_answer_and_the_latest_wins_everywhere(app):
    from csei_nlp.train.feedback import app_passages

    st = _state(app)
    st.params = replace(st.params, overlap=1.0)  # both annotators get the same passages
    nina, olek = app.test_client(), app.test_client()
    tok_n, tok_o = login(nina, "nina"), login(olek, "olek")
    pid = _answer(nina, tok_n, labels=["innovation:social"])
    assert _answer(olek, tok_o, labels=["innovation:social", "helix:business"]) == pid
    assert agreement.report(queue.live_labels(st.db))["conflicts"] == [pid]

    page = nina.get(f"/annotate/edit/{pid}").text
    assert 'id="editing"' in page and _ticked(page) == {"innovation:social"}
    assert 'data-mode="edit"' in page and 'id="skip"' not in page and 'id="undo-form"' not in page
    # a write without the form's token changes nothing
    r = nina.post(f"/annotate/edit/{pid}", data={"label": ["helix:business"]})
    assert r.status_code == 400 and queue.live_labels(st.db)[pid]["nina"]["helix"] == []
    r = nina.post(f"/annotate/edit/{pid}", data={"csrf_token": tok_n,
                                                  "label": ["innovation:social", "helix:business"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/annotate/mine")
    assert "Saved your corrected labels" in nina.get("/annotate/mine").text

    # the database keeps both events; the correction names what it corrects and counts
    mine = [e for e in _events(app, passage_id=pid, user_name="nina")]
    assert [e["action"] for e in mine] == ["label", "label"] and mine[1]["target_id"] == mine[0]["id"]
    assert queue.live_labels(st.db)[pid]["nina"] == {"innovation": ["social"], "helix": ["business"],
                                                     "criteria": []}
    assert agreement.report(queue.live_labels(st.db))["conflicts"] == []  # agreement: latest answer
    recs = [r for r in annolog.read(st.annotations_dir) if r["passage_id"] == pid and r["annotator"] == "nina"]
    assert len(recs) == 2 and recs[1]["corrects"] == recs[0]["id"]  # the log: appended, never rewritten
    resolved = {r["passage_id"]: r for r in annolog.resolve(st.annotations_dir)}
    assert resolved[pid]["status"] == "agreed" and resolved[pid]["labels"]["helix"] == ["business"]
    trained = {p.where: p for p in app_passages(st.annotations_dir)}  # training reads the latest too
    assert trained[f"app log passage {pid}"].labels["helix"] == ["business"]
    # exports hand on one answer per annotator: the corrected one
    root = app.test_client()
    login(root, "root")
    tasks = json.loads(root.get("/export/annotations.labelstudio.json").data)
    task = next(t for t in tasks if t["data"]["passage_id"] == pid)
    assert len(task["annotations"]) == 2
    by = {a["completed_by"]: a for a in task["annotations"]}
    assert next(x for x in by["nina"]["result"] if x["from_name"] == "helix")["value"]["choices"] == ["business"]
    prodigy = [json.loads(line) for line in root.get("/export/annotations.prodigy.jsonl").text.splitlines()]
    assert sorted(r["accept"] for r in prodigy if r.get("csei", {}).get("id") in {x["id"] for x in recs}) == [
        ["innovation:social", "helix:business"]]

    listing = nina.get("/annotate/mine").text
    assert '<span class="badge">corrected</span>' in listing and 'id="n-my-labels">1 passages' in listing
    # saving the same answer again adds nothing
    nina.post(f"/annotate/edit/{pid}", data={"csrf_token": tok_n, "label": ["innovation:social", "helix:business"]})
    assert len(_events(app, passage_id=pid, user_name="nina")) == 2
    # undo takes the correction back: the labels it corrected stand again, everywhere
    r = nina.post("/annotate/undo", data={"csrf_token": tok_n}, follow_redirects=True)
    assert "Undid your last correction" in r.text
    assert queue.live_labels(st.db)[pid]["nina"]["helix"] == []
    assert {r["passage_id"]: r for r in annolog.resolve(st.annotations_dir)}[pid]["status"] == "conflict"


def test_only_ones_own_live_labels_can_be_corrected(app):
    st = _state(app)
    nina, olek = app.test_client(), app.test_client()
    tok_n, tok_o = login(nina, "nina"), login(olek, "olek")
    pid = _answer(nina, tok_n, labels=["innovation:social"])
    # someone else's label: refused both ways, and nothing is written
    assert olek.get(f"/annotate/edit/{pid}").status_code == 403
    r = olek.post(f"/annotate/edit/{pid}", data={"csrf_token": tok_o, "label": ["helix:business"]})
    assert r.status_code == 403 and set(queue.live_labels(st.db)[pid]) == {"nina"}
    # a passage she skipped, one she never saw, one that does not exist
    skipped = _answer(nina, tok_n, action="skip")
    for other in (skipped, _offered(nina.get("/annotate").text), "no-such-doc:7", "nonsense"):
        assert nina.get(f"/annotate/edit/{other}").status_code == 403
    # an undone label is no longer hers to correct
    nina.post("/annotate/undo", data={"csrf_token": tok_n})  # the skip
    nina.post("/annotate/undo", data={"csrf_token": tok_n})  # the label
    assert nina.get(f"/annotate/edit/{pid}").status_code == 403
    assert pid not in queue.live_labels(st.db)


def test_a_skipped_passage_is_labelled_when_it_comes_back(app):
    """A skip defers a passage: labelling it later is saved (it used to return the skip instead)."""
    st = _state(app)
    nina = next(u for u in st.db.users() if u["name"] == "nina") | {"role": "annotator"}
    it = queue.next_item(st.db, st.store_path, nina, st.params)
    queue.record(st.db, st.store_path, st.annotations_dir, nina, it["passage_id"], "skip", None, "mv")
    assert queue.stats(st.db, nina)["my_skipped"] == 1
    queue.record(st.db, st.store_path, st.annotations_dir, nina, it["passage_id"], "label",
                 {"innovation": ["social"]}, "mv")
    assert queue.live_labels(st.db)[it["passage_id"]]["nina"]["innovation"] == ["social"]
    s = queue.stats(st.db, nina)
    assert s["my_skipped"] == 0 and s["mine"] == 1
    # undoing that label brings the passage back in its place, not behind the other skips
    queue.undo(st.db, st.store_path, st.annotations_dir, nina, "mv")
    assert queue.next_item(st.db, st.store_path, nina, st.params)["passage_id"] == it["passage_id"]


# --- flags, ignores and comments -----------------------------------------------------------------

def test_flags_and_ignores_leave_the_queue_and_admins_read_the_comments(app):
    st = _state(app)
    nina = app.test_client()
    tok = login(nina, "nina")
    pid = _offered(nina.get("/annotate").text)
    r = nina.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": "flag", "comment": "hm"},
                  follow_redirects=True)
    assert "Choose why you flag" in r.text and _offered(r.text) == pid and _events(app) == []
    comment = "<script>window.__x=1</script> this is the site's menu"
    assert _answer(nina, tok, action="flag", reason="not_passage", comment=comment) == pid
    ignored = _answer(nina, tok, action="ignore")
    commented = _answer(nina, tok, labels=["innovation:social"], comment="mentions a cooperative & a town")
    seen = {_answer(nina, tok, labels=["helix:business"]) for _ in range(5)}
    assert not seen & {pid, ignored}  # neither comes back to her
    page = nina.get("/annotate").text
    assert "set aside 2" in page and 'id="flag-panel"' in page and "not a passage" in page
    ev = {e["passage_id"]: e for e in _events(app)}
    assert ev[pid]["action"] == "flag" and ev[pid]["reason"] == "not_passage" and ev[pid]["note"] == comment
    assert ev[ignored]["action"] == "ignore" and ev[pid]["suggestions_shown"] is None
    # the log holds the flag (not the ignore); training does not see either
    flag_rec = next(r for r in annolog.read(st.annotations_dir) if r["event"] == "flag")
    assert flag_rec["passage_id"] == pid and flag_rec["reason"] == "not_passage" and flag_rec["note"] == comment
    assert {r["passage_id"] for r in annolog.resolve(st.annotations_dir)}.isdisjoint({pid, ignored})
    # set aside by her, the passages go to others at once (not held for half an hour)
    olek = app.test_client()
    tok_o = login(olek, "olek")
    assert _offered(olek.get("/annotate").text) in (pid, ignored)

    # annotators never see the list; admins and analysts do, with the crawled-text-safe comment
    assert nina.get("/flags").status_code == 403
    root = app.test_client()
    login(root, "root")
    flags = root.get("/flags").text
    assert "not a passage" in flags and "&lt;script&gt;window.__x=1&lt;/script&gt;" in flags
    assert "<script>window.__x" not in flags
    assert "mentions a cooperative &amp; a town" in flags and commented in flags
    assert ignored not in flags  # an ignore without a comment is nobody's business
    assert f'href="/adjudicate/{pid}"' in flags
    adj = root.get(f"/adjudicate/{pid}").text
    assert 'id="passage-flags"' in adj and "&lt;script&gt;window.__x" in adj
    alice = app.test_client()
    login(alice, "alice")
    assert alice.get("/flags").status_code == 200
    assert olek.post("/annotate", data={"passage_id": pid, "action": "flag", "reason": "unsure"}).status_code == 400


def test_undoing_a_flag_brings_the_passage_back(app):
    st = _state(app)
    c = app.test_client()
    tok = login(c, "olek")
    pid = _answer(c, tok, action="flag", reason="bad_text")
    assert _offered(c.get("/annotate").text) != pid
    r = c.post("/annotate/undo", data={"csrf_token": tok}, follow_redirects=True)
    assert "Undid your last flag" in r.text and _offered(r.text) == pid
    recs = list(annolog.read(st.annotations_dir))
    assert [r["event"] for r in recs] == ["flag", "retract"] and recs[1]["retracts"] == recs[0]["id"]
    root = app.test_client()
    login(root, "root")
    assert 'id="no-flags"' in root.get("/flags").text


def test_flagged_and_ignored_passages_are_in_my_labels_and_can_be_labelled_instead(app):
    st = _state(app)
    single_annotation(app)  # a passage one annotator holds is then held from the others
    nina = app.test_client()
    tok = login(nina, "nina")
    flagged = _answer(nina, tok, action="flag", reason="unsure", comment="is a <b>town</b> an actor?")
    ignored = _answer(nina, tok, action="ignore", comment="not my language")
    labelled = _answer(nina, tok, labels=["helix:business"])
    page = nina.get("/annotate/mine").text
    rows = re.findall(r'class="mine" data-passage="([^"]+)" data-action="(\w+)"', page)
    assert rows == [(labelled, "label"), (ignored, "ignore"), (flagged, "flag")]
    assert 'id="n-my-labels">3 passages' in page
    assert '<span class="badge flagged">flagged</span> <span class="reason">unsure: needs a second look</span>' in page
    assert '<span class="badge ignored">ignored</span>' in page
    assert "your comment: is a &lt;b&gt;town&lt;/b&gt; an actor?" in page and "your comment: not my language" in page
    assert page.count(">Label it</a>") == 2 and page.count(">Edit</a>") == 1

    # she opens the flagged one and labels it instead
    form = nina.get(f"/annotate/edit/{flagged}").text
    assert 'id="editing" data-replaces="flag"' in form and "unsure: needs a second look" in form
    assert _ticked(form) == set() and "Label it instead" in form
    r = nina.post(f"/annotate/edit/{flagged}", data={"csrf_token": tok, "label": ["innovation:social"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/annotate/mine")
    page = nina.get("/annotate/mine").text
    assert "they replace your flag" in page
    rows = re.findall(r'class="mine" data-passage="([^"]+)" data-action="(\w+)"', page)
    assert rows == [(flagged, "label"), (labelled, "label"), (ignored, "ignore")]
    # append-only: the flag stays in the database and the log, the label names it; the latest answer counts
    mine = _events(app, passage_id=flagged)
    assert [e["action"] for e in mine] == ["flag", "label"] and mine[1]["target_id"] == mine[0]["id"]
    assert queue.live_labels(st.db)[flagged]["nina"]["innovation"] == ["social"]
    recs = [r for r in annolog.read(st.annotations_dir) if r["passage_id"] == flagged]
    assert [r["event"] for r in recs] == ["flag", "label"]
    assert recs[1]["corrects"] == recs[0]["id"] and recs[1]["corrects_event"] == "flag"
    assert {r["passage_id"]: r for r in annolog.resolve(st.annotations_dir)}[flagged]["labels"]["innovation"] == [
        "social"]
    assert flagged in {r["passage_id"] for r in annolog.current_labels(st.annotations_dir)}
    s = queue.stats(st.db, next(u for u in st.db.users() if u["name"] == "nina"))
    assert s["mine"] == 2 and s["my_set_aside"] == 1  # the labelled flag counts as labelled, not set aside
    # the flag she no longer stands by leaves the admins' list
    root = app.test_client()
    login(root, "root")
    assert flagged not in root.get("/flags").text

    # the ignored one too; the ignore was never logged, so the label names the database event
    nina.post(f"/annotate/edit/{ignored}", data={"csrf_token": tok, "label": ["criteria:interconnection"]})
    assert queue.live_labels(st.db)[ignored]["nina"]["criteria"] == ["interconnection"]
    assert 'data-action="ignore"' not in nina.get("/annotate/mine").text
    # undo takes the label back: the ignore stands again, listed as before
    r = nina.post("/annotate/undo", data={"csrf_token": tok}, follow_redirects=True)
    assert "the answer it replaced stands again" in r.text and ignored not in queue.live_labels(st.db)
    assert f'data-passage="{ignored}" data-action="ignore"' in nina.get("/annotate/mine").text
    # someone else cannot label her flag away; the ignored passage is still free for others to take
    olek = app.test_client()
    tok_o = login(olek, "olek")
    assert _offered(olek.get("/annotate").text) == ignored
    assert olek.get(f"/annotate/edit/{ignored}").status_code == 403
    assert olek.post(f"/annotate/edit/{ignored}", data={"csrf_token": tok_o, "label": ["helix:business"]}
                     ).status_code == 403


# --- model suggestions ---------------------------------------------------------------------------

def test_suggestions_are_pre_ticked_with_their_probability_and_can_be_turned_off(app, scan_out):
    set_probabilities(scan_out)
    single_annotation(app)
    st = _state(app)
    c = app.test_client()
    tok = login(c, "nina")
    page = c.get("/annotate").text
    assert _ticked(page) == SUGGESTED and 'id="show-suggestions" checked' in page
    assert '<span class="prob" title="the model\'s probability for this label">91%</span>' in page
    assert 'name="suggestions_shown" value="1"' in page
    # she keeps two of the three and adds one: the event records what was shown and pre-ticked
    pid = _answer(c, tok, labels=["innovation:social", "criteria:cooperating_group", "helix:business"],
                  suggestions_shown="1")
    e = _events(app, passage_id=pid)[-1]
    assert e["suggestions_shown"] is True
    assert json.loads(e["suggested"]) == {"innovation": ["ecological", "social"], "helix": [],
                                          "criteria": ["cooperating_group"]}
    rec = [r for r in annolog.read(st.annotations_dir) if r["passage_id"] == pid][-1]
    assert rec["suggestions_shown"] is True and rec["suggested"]["innovation"] == ["ecological", "social"]

    # turning them off: a write like any other (CSRF), kept for the user, nothing ticked or shown
    assert c.post("/annotate/suggestions", data={}).status_code == 400
    r = c.post("/annotate/suggestions", data={"csrf_token": tok, "next": "//evil.example/annotate"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/annotate")  # never off-site
    page = c.get("/annotate").text
    assert _ticked(page) == set() and 'class="prob"' not in page and 'id="show-suggestions" checked' not in page
    assert 'name="suggestions_shown" value="0"' in page
    pid2 = _answer(c, tok, labels=["innovation:social"], suggestions_shown="0")
    e = _events(app, passage_id=pid2)[-1]
    assert e["suggestions_shown"] is False and e["suggested"] is None
    c.post("/logout", data={"csrf_token": tok})
    tok = login(c, "nina")
    assert _ticked(c.get("/annotate").text) == set()  # still off after signing in again
    other = app.test_client()
    login(other, "olek")
    assert _ticked(other.get("/annotate").text) == SUGGESTED  # her choice, not everyone's
    # and on again
    c.post("/annotate/suggestions", data={"csrf_token": tok, "show": "on", "next": "/annotate"})
    assert _ticked(c.get("/annotate").text) == SUGGESTED


def test_corrections_show_probabilities_but_tick_the_annotators_answer(app, scan_out):
    set_probabilities(scan_out)
    single_annotation(app)
    c = app.test_client()
    tok = login(c, "nina")
    pid = _answer(c, tok, labels=["helix:civil_society"], suggestions_shown="1")
    page = c.get(f"/annotate/edit/{pid}").text
    assert _ticked(page) == {"helix:civil_society"} and "91%" in page
    c.post(f"/annotate/edit/{pid}", data={"csrf_token": tok, "label": ["helix:civil_society", "innovation:social"],
                                          "suggestions_shown": "1"})
    e = _events(app, passage_id=pid)[-1]
    assert e["target_id"] is not None and e["suggestions_shown"] is True


def test_without_probabilities_nothing_is_suggested(app, scan_out):
    set_probabilities(scan_out, {})
    single_annotation(app)
    c = app.test_client()
    tok = login(c, "nina")
    page = c.get("/annotate").text
    assert _ticked(page) == set() and 'id="no-suggestions"' in page and 'name="suggestions_shown" value="0"' in page
    pid = _answer(c, tok, labels=["innovation:social"], suggestions_shown="1")  # a forged claim
    assert _events(app, passage_id=pid)[-1]["suggestions_shown"] is False


def test_double_annotated_passages_withhold_the_models_suggestions(app, scan_out):
    """On the agreement sample the model's suggestions are neither shown nor pre-ticked (whatever the
    annotator chose), and the label event says why; elsewhere they show as before."""
    from sqlalchemy import select

    from csei_nlp.store.appdb import queue_items

    set_probabilities(scan_out)
    st = _state(app)
    st.params = replace(st.params, overlap=0.5)
    c = app.test_client()
    tok = login(c, "nina")
    seen = {True: 0, False: 0}
    for _ in range(12):
        page = c.get("/annotate").text
        pid = _offered(page)
        with st.db.engine.connect() as conn:
            overlap = bool(conn.execute(select(queue_items.c.overlap).where(queue_items.c.passage_id == pid))
                           .scalar_one())
        seen[overlap] += 1
        if overlap:
            assert _ticked(page) == set() and 'class="prob"' not in page
            assert 'id="suggestions-withheld" data-reason="overlap"' in page
            assert 'name="suggestions_shown" value="0"' in page and "double-annotated sample" in page
            assert 'id="show-suggestions" checked' in page  # her choice is kept, only not applied here
        else:
            assert _ticked(page) == SUGGESTED and "91%" in page and 'id="suggestions-withheld"' not in page
        # she keeps what is ticked; the form's claim of shown suggestions is checked against the queue
        c.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": "label",
                                  "label": sorted(_ticked(page)) or ["helix:business"], "suggestions_shown": "1"})
        e = _events(app, passage_id=pid)[-1]
        assert e["suggestions_withheld"] == ("overlap" if overlap else None)
        assert e["suggestions_shown"] is (not overlap)
        assert (e["suggested"] is None) is overlap
        rec = [r for r in annolog.read(st.annotations_dir) if r["passage_id"] == pid][-1]
        assert rec.get("suggestions_withheld") == ("overlap" if overlap else None)
        assert rec["suggestions_shown"] is (not overlap)
        if overlap:
            # correcting it later: still no suggestions, and the correction records why
            page = c.get(f"/annotate/edit/{pid}").text
            assert 'class="prob"' not in page and 'id="suggestions-withheld"' in page
            c.post(f"/annotate/edit/{pid}", data={"csrf_token": tok, "label": ["helix:civil_society"],
                                                  "suggestions_shown": "1"})
            e = _events(app, passage_id=pid)[-1]
            assert e["target_id"] is not None and e["suggestions_withheld"] == "overlap"
            assert e["suggestions_shown"] is False
    assert seen[True] and seen[False]  # both kinds were offered


def test_a_project_can_start_everyone_with_suggestions_off(scan_out, tmp_path):
    from csei_nlp import config
    from csei_nlp.web.app import create_app

    set_probabilities(scan_out)
    cfg = config.load(overrides={"annotate": {"suggestions": False, "overlap": 0.0}})
    app = create_app(scan_out, cfg, annotations_dir=tmp_path / "annotations", models_dir=tmp_path / "no-models")
    try:
        make_users(app)
        c = app.test_client()
        tok = login(c, "nina")
        assert _ticked(c.get("/annotate").text) == set()
        c.post("/annotate/suggestions", data={"csrf_token": tok, "show": "on"})
        assert _ticked(c.get("/annotate").text) == SUGGESTED
    finally:
        app.extensions["csei"].db.dispose()


def test_an_app_database_of_an_earlier_version_gets_the_new_columns(tmp_path):
    from sqlalchemy import inspect

    from csei_nlp.store.appdb import AppDB

    path = tmp_path / "app.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE app_annotation_events (id INTEGER PRIMARY KEY AUTOINCREMENT, passage_id VARCHAR(64) "
                 "NOT NULL, user_id INTEGER NOT NULL, user_name VARCHAR(80) NOT NULL, action VARCHAR(16) NOT NULL, "
                 "labels TEXT NOT NULL, target_id INTEGER, created VARCHAR(32) NOT NULL, model_version "
                 "VARCHAR(255) NOT NULL, note TEXT NOT NULL)")
    conn.execute("INSERT INTO app_annotation_events (passage_id, user_id, user_name, action, labels, created, "
                 "model_version, note) VALUES ('d:1', 1, 'nina', 'label', '{}', '2025-01-01', '', '')")
    conn.commit()
    conn.close()
    db = AppDB(f"sqlite:///{path}")
    try:
        cols = {c["name"] for c in inspect(db.engine).get_columns("app_annotation_events")}
        assert {"reason", "suggestions_shown", "suggested", "suggestions_withheld"} <= cols
        assert queue.live_labels(db) == {"d:1": {"nina": {}}}  # the old rows read as before
        AppDB(f"sqlite:///{path}").dispose()  # a second start finds them there
    finally:
        db.dispose()
