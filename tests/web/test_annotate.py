"""The annotation loop: queue order, skip, undo, blind double annotation, the JSONL log."""
from __future__ import annotations

import json
import threading

from conftest import login

from csei_nlp.annotate import log as annolog, queue
from csei_nlp.web.app import ACTION_KEYS, SHORTCUTS


def _state(app):
    return app.extensions["csei"]


def _user(app, name):
    return next(u for u in _state(app).db.users() if u["name"] == name) | {"role": "annotator"}


def test_shortcuts_are_visible_and_do_not_collide(app):
    keys = list(SHORTCUTS.values()) + [k.lower() for k in ACTION_KEYS.values()]
    assert len(keys) == len(set(keys)) == 14 + 6
    c = app.test_client()
    login(c, "nina")
    page = c.get("/annotate").text
    for k in SHORTCUTS.values():
        assert f'data-key="{k}"' in page


def test_queue_is_stratified_and_mixed(app):
    st = _state(app)
    n = queue.refill(st.db, st.store_path, st.params)
    assert n > 0
    from sqlalchemy import select
    from csei_nlp.store.appdb import queue_items
    with st.db.engine.connect() as c:
        rows = c.execute(select(queue_items).order_by(queue_items.c.position)).mappings().all()
    all_langs = {r["lang"] for r in rows}
    assert len(all_langs) >= 4
    # rotation across languages within each strategy: its first picks are all different languages
    for strategy in {r["strategy"] for r in rows}:
        langs = [r["lang"] for r in rows if r["strategy"] == strategy]
        k = min(3, len(langs))
        assert len(set(langs[:k])) == k, (strategy, langs)
    per_site = {}
    for r in rows:
        per_site[r["site"]] = per_site.get(r["site"], 0) + 1
    assert max(per_site.values()) <= st.params.per_site
    strategies = {r["strategy"] for r in rows}
    assert "random" in strategies
    assert len({r["passage_id"] for r in rows}) == len(rows)


def test_label_skip_undo_and_log(app):
    st = _state(app)
    nina = _user(app, "nina")
    first = queue.next_item(st.db, st.store_path, nina, st.params)
    queue.record(st.db, st.store_path, st.annotations_dir, nina, first["passage_id"], "label",
                 {"innovation": ["social", "bogus"], "helix": ["civil_society"]}, "mv1")
    second = queue.next_item(st.db, st.store_path, nina, st.params)
    assert second["passage_id"] != first["passage_id"]
    queue.record(st.db, st.store_path, st.annotations_dir, nina, second["passage_id"], "skip", None, "mv1")
    third = queue.next_item(st.db, st.store_path, nina, st.params)
    assert third["passage_id"] not in (first["passage_id"], second["passage_id"])  # skipped goes to the back
    # undo the skip, then the label: the labelled passage comes back first
    assert queue.undo(st.db, st.store_path, st.annotations_dir, nina, "mv1")["action"] == "skip"
    assert queue.undo(st.db, st.store_path, st.annotations_dir, nina, "mv1")["action"] == "label"
    assert queue.next_item(st.db, st.store_path, nina, st.params)["passage_id"] == first["passage_id"]
    recs = list(annolog.read(st.annotations_dir))
    assert [r["event"] for r in recs] == ["label", "retract"]
    assert recs[0]["labels"] == {"innovation": ["social"], "helix": ["civil_society"], "criteria": []}
    assert recs[0]["annotator"] == "nina" and recs[0]["model_version"] == "mv1"
    assert recs[0]["source"].startswith("store:") and recs[0]["text"]
    assert recs[1]["retracts"] == recs[0]["id"]
    assert annolog.resolve(st.annotations_dir) == []  # the only label was retracted


def test_blind_double_annotation_and_agreement(app):
    st = _state(app)
    from dataclasses import replace
    st.params = replace(st.params, overlap=1.0)  # every item double-annotated
    nina, olek = _user(app, "nina"), _user(app, "olek")
    seen = {"nina": [], "olek": []}
    for _ in range(4):
        for u in (nina, olek):
            it = queue.next_item(st.db, st.store_path, u, st.params)
            seen[u["name"]].append(it["passage_id"])
            labels = {"innovation": ["social"]} if u["name"] == "nina" or len(seen["olek"]) % 2 else {}
            queue.record(st.db, st.store_path, st.annotations_dir, u, it["passage_id"], "label", labels, "mv")
    assert seen["nina"] == seen["olek"]  # both label the same overlap items
    c = app.test_client()
    login(c, "alice")
    page = c.get("/agreement").text
    assert "4 double-annotated passages" in page
    from csei_nlp.annotate import agreement
    rep = agreement.report(queue.live_labels(st.db))
    assert rep["labels"]["innovation:social"]["agreement"] == 0.5
    assert len(rep["conflicts"]) == 2
    # the page warns that 4 passages are too few, shows undefined values as such (labels nobody used),
    # compares the pair, and lists each conflict with its text and the labels that differ
    assert 'id="small-n"' in page and "undefined" in page and "κ nina · olek" in page
    assert page.count('class="conflict card"') == 2
    for pid in rep["conflicts"]:
        text = queue.passage_with_context(st.store_path, pid)["text"]
        assert text[:60].replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;") in page
    conflict_html = page[page.index('id="conflict-1"'):]
    assert ">social</span>" in conflict_html and "none of them" in conflict_html
    # the annotator screen never shows another annotator's labels
    c2 = app.test_client()
    login(c2, "olek")
    assert "nina" not in c2.get("/annotate").text
    # adjudication by an admin keeps the raw labels
    c3 = app.test_client()
    tok = login(c3, "root")
    pid = rep["conflicts"][0]
    form = c3.get(f"/adjudicate/{pid}").text
    assert "Label definitions" in form and 'data-key="1"' in form and "differs" in form
    r = c3.post(f"/adjudicate/{pid}", data={"label": ["innovation:social", "helix:business"], "csrf_token": tok})
    assert r.status_code == 302
    resolved = {r["passage_id"]: r for r in annolog.resolve(st.annotations_dir)}
    assert resolved[pid]["status"] == "adjudicated"
    assert resolved[pid]["labels"]["helix"] == ["business"]
    assert set(resolved[pid]["raw"]) == {"nina", "olek"}
    assert queue.live_labels(st.db)[pid].keys() == {"nina", "olek"}


def test_two_annotators_at_once_lose_nothing(app):
    st = _state(app)
    users = [_user(app, "nina"), _user(app, "olek")]
    errors, done = [], {"nina": [], "olek": []}

    def work(u):
        try:
            for _ in range(8):
                it = queue.next_item(st.db, st.store_path, u, st.params)
                if it is None:
                    return
                queue.record(st.db, st.store_path, st.annotations_dir, u, it["passage_id"], "label",
                             {"criteria": ["cooperating_group"]}, "mv")
                done[u["name"]].append(it["passage_id"])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    recs = [r for r in annolog.read(st.annotations_dir) if r["event"] == "label"]
    assert len(recs) == len(done["nina"]) + len(done["olek"]) == 16
    assert all(json.dumps(r) for r in recs)  # every line parsed: no interleaved writes
    live = queue.live_labels(st.db)
    assert sum(len(v) for v in live.values()) == 16
    # single-annotation items were not handed to both people
    both = set(done["nina"]) & set(done["olek"])
    from sqlalchemy import select
    from csei_nlp.store.appdb import queue_items
    with st.db.engine.connect() as c:
        overlap = {r[0] for r in c.execute(select(queue_items.c.passage_id).where(queue_items.c.overlap))}
    assert both <= overlap


def test_labels_only_for_offered_passages_and_only_once(app):
    """Two tabs or a forged id: the server takes a label only for what it offered, once per annotator."""
    import re

    st = _state(app)
    c = app.test_client()
    tok = login(c, "nina")
    page = c.get("/annotate").text
    offered = re.search(r'name="passage_id" value="([^"]+)"', page).group(1)
    # a passage in the store that the queue never showed her
    from sqlalchemy import select

    from csei_nlp.store.appdb import queue_items

    with st.db.engine.connect() as conn:
        other = next(pid for pid in conn.execute(select(queue_items.c.passage_id)).scalars() if pid != offered)
    r = c.post("/annotate", data={"csrf_token": tok, "passage_id": other, "action": "label",
                                  "label": ["innovation:social"]}, follow_redirects=True)
    assert "not offered to you" in r.text
    assert other not in queue.live_labels(st.db)
    # the same answer sent twice (double click, second tab) is stored once, and logged once
    for _ in range(2):
        c.post("/annotate", data={"csrf_token": tok, "passage_id": offered, "action": "label",
                                  "label": ["innovation:social"]})
    assert queue.live_labels(st.db)[offered] == {"nina": {"innovation": ["social"], "helix": [], "criteria": []}}
    assert sum(1 for r in annolog.read(st.annotations_dir) if r["passage_id"] == offered) == 1
    # after an undo she may answer it again
    c.post("/annotate/undo", data={"csrf_token": tok})
    c.post("/annotate", data={"csrf_token": tok, "passage_id": offered, "action": "label",
                              "label": ["helix:business"]})
    assert queue.live_labels(st.db)[offered]["nina"]["helix"] == ["business"]


def test_undo_brings_the_passage_back_with_the_previous_answer(app):
    import re

    c = app.test_client()
    tok = login(c, "olek")
    pid = re.search(r'name="passage_id" value="([^"]+)"', c.get("/annotate").text).group(1)
    c.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": "label",
                              "label": ["innovation:ecological", "helix:civil_society"]})
    assert pid not in c.get("/annotate").text
    c.post("/annotate/undo", data={"csrf_token": tok})
    page = c.get("/annotate").text
    assert f'name="passage_id" value="{pid}"' in page and 'id="restored"' in page
    ticked = set(re.findall(r'value="([a-z_]+:[a-z_]+)" data-key="\w" checked', page))
    assert ticked == {"innovation:ecological", "helix:civil_society"}


def test_guidelines_are_rendered_and_raw_html_in_them_stays_text(app):
    st = _state(app)
    st.annotations_dir.mkdir(parents=True, exist_ok=True)
    (st.annotations_dir / "GUIDELINES.md").write_text(
        "# Guide\n\n| kind | is_csei |\n|---|---|\n| `csei` | 1 |\n\n**Example.** A *cluster* of co-ops.\n\n"
        "<script>window.__x=1</script>\n\n[bad](javascript:alert(1))\n", "utf-8")
    c = app.test_client()
    login(c, "nina")
    page = c.get("/guidelines").text
    assert "<h1>Guide</h1>" in page and "<table>" in page and "<code>csei</code>" in page
    assert "<strong>Example.</strong>" in page and "<em>cluster</em>" in page
    assert "<script>window.__x" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page


def test_the_projects_guidelines_render_with_their_examples(app, repo_dir):
    c = app.test_client()
    login(c, "nina")
    page = c.get("/guidelines").text  # the app's own annotations folder has none: the project's are shown
    assert "<h2>1. What a CSEI is</h2>" in page and "<table>" in page


def test_progress_towards_the_session_goal(app):
    import re

    c = app.test_client()
    tok = login(c, "olek")
    page = c.get("/annotate").text
    assert 'id="n-session">0<' in page and 'max="40"' in page
    for _ in range(2):
        pid = re.search(r'name="passage_id" value="([^"]+)"', c.get("/annotate").text).group(1)
        c.post("/annotate", data={"csrf_token": tok, "passage_id": pid, "action": "label", "label": ["innovation:social"]})
    assert 'id="n-session">2<' in c.get("/annotate").text
    c.post("/logout", data={"csrf_token": tok})
    login(c, "olek")  # a new sign-in starts a new session count; the total stays
    page = c.get("/annotate").text
    assert 'id="n-session">0<' in page and 'id="n-mine">2<' in page
