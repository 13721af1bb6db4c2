"""The app through its HTTP interface: permissions, CSRF, safety, decisions, exports, concurrency."""
from __future__ import annotations

import csv
import io
import json
import re
import threading

from conftest import PASSWORD, csrf_of, login


def test_anonymous_users_are_refused(app):
    c = app.test_client()
    for url in ("/ranking", "/candidate/zelenalhota.cz", "/annotate", "/export/decisions.csv", "/overview"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    # a POST without a session has no CSRF token either: refused before anything is written
    r = c.post("/candidate/zelenalhota.cz/decision", data={"decision": "accept"})
    assert r.status_code == 400
    assert app.extensions["csei"].db.all_decisions() == []


def test_wrong_password_and_csrf(app):
    c = app.test_client()
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": "alice", "password": "wrong password", "csrf_token": tok})
    assert r.status_code == 401 and "wrong password" in r.text
    r = c.post("/login", data={"name": "alice", "password": PASSWORD})  # no token
    assert r.status_code == 400
    tok = login(c, "alice")
    r = c.post("/candidate/zelenalhota.cz/decision", data={"decision": "accept", "csrf_token": "forged"})
    assert r.status_code == 400 and "security token" in r.text
    assert app.extensions["csei"].db.all_decisions() == []


def test_annotator_cannot_decide_or_export(app):
    c = app.test_client()
    tok = login(c, "nina")
    r = c.post("/candidate/zelenalhota.cz/decision", data={"decision": "accept", "csrf_token": tok})
    assert r.status_code == 403
    assert c.get("/ranking").status_code == 403
    assert c.get("/export/decisions.json").status_code == 403
    assert c.get("/agreement").status_code == 403  # blind: no view of others' labels
    assert app.extensions["csei"].db.all_decisions() == []


def test_security_headers_and_cookie(app):
    c = app.test_client()
    r = c.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_error_page_has_no_stack_trace(app):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    c = app.test_client()
    login(c, "alice")

    r = c.get("/boom")
    assert r.status_code == 500
    assert "Traceback" not in r.text and "secret internals" not in r.text
    assert "Something went wrong" in r.text
    assert c.get("/candidate/no-such-site.example").status_code == 404


def test_ranking_filters_sort_and_search(app):
    c = app.test_client()
    login(c, "alice")
    all_rows = _csv(c.get("/export/ranking.csv").text)
    cee_rows = _csv(c.get("/export/ranking.csv?cee=1").text)
    assert 0 < len(cee_rows) < len(all_rows)
    assert all(r["cee"] == "1" for r in cee_rows)
    assert {r["site"] for r in cee_rows} >= {"klaster-zielonydol.pl", "zelenalhota.cz"}
    ranks = [int(r["rank"]) for r in all_rows]
    assert ranks == sorted(ranks)
    by_name = _csv(c.get("/export/ranking.csv?sort=name").text)
    names = [r["name"] for r in by_name]
    assert names == sorted(names)
    hit = _csv(c.get("/export/ranking.csv?q=hornarieka").text)
    assert [r["site"] for r in hit] == ["klaster-hornarieka.sk"]
    de = _csv(c.get("/export/ranking.csv?lang=de").text)
    assert [r["site"] for r in de] == ["gruenes-wiesenthal.de"]
    top = float(all_rows[0]["score"])
    assert all(float(r["score"]) >= top - 1e-9 for r in _csv(c.get(f"/export/ranking.csv?min_score={top}").text))
    page = c.get("/ranking?cee=1")
    assert page.status_code == 200 and "gruenes-wiesenthal.de" not in page.text


def test_decision_filter_score_range_and_odd_parameters(app):
    c = app.test_client()
    tok = login(c, "alice")
    everyone = {r["site"] for r in _csv(c.get("/export/ranking.csv").text)}
    c.post("/candidate/zelenalhota.cz/decision", data={"decision": "accept", "csrf_token": tok})
    c.post("/candidate/gruenes-wiesenthal.de/decision", data={"decision": "reject", "csrf_token": tok})
    sites = lambda q: {r["site"] for r in _csv(c.get("/export/ranking.csv?" + q).text)}  # noqa: E731
    assert sites("decision=accept") == {"zelenalhota.cz"}
    assert sites("decision=reject") == {"gruenes-wiesenthal.de"}
    assert sites("decision=unsure") == set()
    assert sites("decision=pending") == everyone - {"zelenalhota.cz", "gruenes-wiesenthal.de"}
    page = c.get("/ranking?decision=pending")
    assert page.status_code == 200 and 'href="/candidate/zelenalhota.cz' not in page.text
    assert 'href="/candidate/zelenalhota.cz?decision=accept"' in c.get("/ranking?decision=accept").text
    # a reversed score range is read the right way round, and the page says so
    assert sites("min_score=0.9&max_score=0.1") == sites("min_score=0.1&max_score=0.9")
    page = c.get("/ranking?min_score=0.9&max_score=0.1")
    assert "was reversed" in page.text and 'value="0.1"' in page.text
    assert "is not a number between 0 and 1" in c.get("/ranking?min_score=lots").text
    # parameters the page does not know, or that clash with its own links, never give a 500
    for q in ("fmt=x", "after=%%%", "sort=../../etc", "decision=maybe", "tag=nope", "tag=helix:business&fmt=csv",
              "min_score=nan", "max_score=inf", "site=x&endpoint=y&_external=1"):
        r = c.get("/ranking?" + q)
        assert r.status_code == 200, (q, r.status_code)
    assert c.get("/export/ranking.xml").status_code == 404
    # the ranking says how ticked tags combine, and a row shows at most two tags per family, then +n
    page = c.get("/ranking").text
    assert "combined with AND" in page
    for cell in re.findall(r'<span class="chips"[^>]*>(.*?)</span></span>', page):
        assert cell.count('class="chip ') <= 3


def test_candidate_page_escapes_crawled_text(app):
    c = app.test_client()
    login(c, "alice")
    r = c.get("/candidate/klaster-zielonydol.pl")
    assert r.status_code == 200
    assert "<script>window.__pwned" not in r.text
    assert "&lt;script&gt;window.__pwned=1" in r.text
    assert "<mark" in r.text  # cue spans highlighted
    for comp in ("classifier", "criteria", "helix", "self designation"):
        assert comp in r.text


def test_decisions_append_only_and_exported(app):
    c = app.test_client()
    tok = login(c, "alice")
    for d, note in (("unsure", "check members"), ("accept", "members are social cooperatives")):
        r = c.post("/candidate/zelenalhota.cz/decision", data={"decision": d, "note": note, "csrf_token": tok})
        assert r.status_code == 302
    c2 = app.test_client()
    tok2 = login(c2, "bob")
    c2.post("/candidate/zelenalhota.cz/decision", data={"decision": "reject", "note": "<b>no</b>", "csrf_token": tok2})
    hist = app.extensions["csei"].db.decision_history("zelenalhota.cz")
    assert [h["decision"] for h in hist] == ["reject", "accept", "unsure"]
    assert [h["user_name"] for h in hist] == ["bob", "alice", "alice"]
    assert all(h["model_version"] and h["created"] for h in hist)
    rows = _csv(c.get("/export/decisions.csv").text)
    assert [(r["site"], r["decision"], r["user_name"]) for r in rows] == [
        ("zelenalhota.cz", "unsure", "alice"), ("zelenalhota.cz", "accept", "alice"), ("zelenalhota.cz", "reject", "bob")]
    js = json.loads(c.get("/export/decisions.json").data)
    assert js[1]["note"] == "members are social cooperatives"
    page = c.get("/candidate/zelenalhota.cz").text
    assert "&lt;b&gt;no&lt;/b&gt;" in page
    ranking = _csv(c.get("/export/ranking.csv?cee=1").text)
    assert {r["site"]: r["decision"] for r in ranking}["zelenalhota.cz"] == "reject"


def _decision_lines(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _trained(annotations_dir):
    """What `csei train` reads from the decisions file, without where each record was on disk."""
    from csei_nlp.train.feedback import decision_docs

    return [(d.doc_id, d.group, d.lang, d.is_csei, d.kind, d.meta["text"]) for d in decision_docs(annotations_dir)]


def test_decisions_become_document_training_data(app):
    c = app.test_client()
    tok = login(c, "alice")
    c.post("/candidate/klaster-borylipiny.pl/decision", data={"decision": "accept", "csrf_token": tok})
    c.post("/candidate/gruenes-wiesenthal.de/decision", data={"decision": "reject", "csrf_token": tok})
    c.post("/candidate/zelenalhota.cz/decision", data={"decision": "unsure", "csrf_token": tok})
    # no export needed: every decision appends one line to the file `csei train` reads
    ann = app.extensions["csei"].annotations_dir
    path = ann / "documents-decisions.jsonl"
    lines = _decision_lines(path)
    assert [(r["event"], r["site"], r["decision"]) for r in lines] == [
        ("decision", "klaster-borylipiny.pl", "accept"), ("decision", "gruenes-wiesenthal.de", "reject"),
        ("decision", "zelenalhota.cz", "unsure")]
    by_site = {r["site"]: r["documents"] for r in lines}
    assert by_site["zelenalhota.cz"] == []  # unsure is not a label
    assert len(by_site["klaster-borylipiny.pl"]) == 2  # both pages of the site
    assert all(r["doc_label"] == {"is_csei": 1, "kind": "csei"} for r in by_site["klaster-borylipiny.pl"])
    assert by_site["gruenes-wiesenthal.de"][0]["doc_label"]["is_csei"] == 0
    assert all(len(r["text"]) > 100 and r["annotator"] == "alice" for docs in by_site.values() for r in docs)
    trained = _trained(ann)
    assert {g for _, g, *_ in trained} == {"site:klaster-borylipiny.pl", "site:gruenes-wiesenthal.de"}
    # changing one's mind appends (the earlier lines stay as they were); training reads the latest
    before = path.read_text("utf-8")
    c.post("/candidate/gruenes-wiesenthal.de/decision", data={"decision": "unsure", "csrf_token": tok})
    after = path.read_text("utf-8")
    assert after.startswith(before) and after.count("\n") == before.count("\n") + 1
    trained = _trained(ann)
    assert {g for _, g, *_ in trained} == {"site:klaster-borylipiny.pl"}
    # "Write training data" compacts the file into document records: training reads the same
    assert c.post("/export/training", data={"csrf_token": tok}).status_code == 302
    compacted = _decision_lines(path)
    assert len(compacted) == 2 and all("event" not in r for r in compacted)
    assert _trained(ann) == trained
    # and decisions after a compaction append to it, and win over it
    c.post("/candidate/klaster-borylipiny.pl/decision", data={"decision": "reject", "csrf_token": tok})
    assert _decision_lines(path)[:2] == compacted
    assert {k for *_, k, _ in _trained(ann)} == {"analyst_reject"}


def test_a_hundred_concurrent_decisions_all_land_in_the_training_file(app):
    """Ten analysts' sessions decide at once through the app: every decision is one appended line,
    none lost or torn, and training reads each site's latest decision, as the full rewrite gave it."""
    from csei_nlp.annotate.decisions import training_records
    from csei_nlp.store.catalog import Catalog, Filters

    st = app.extensions["csei"]
    cat = Catalog(st.store_path)
    try:
        sites = [r["site"] for r in cat.iter_filtered(Filters(), "rank")]
    finally:
        cat.close()
    assert len(sites) >= 6
    clients = []
    for _ in range(10):
        c = app.test_client()
        clients.append((c, login(c, "alice")))
    errors: list = []
    start = threading.Barrier(len(clients))

    def worker(k: int) -> None:
        c, tok = clients[k]
        start.wait()
        for i in range(10):
            r = c.post(f"/candidate/{sites[(k + i) % len(sites)]}/decision",
                       data={"decision": ("accept", "reject", "unsure")[(k * 7 + i) % 3], "note": f"{k}-{i}",
                             "csrf_token": tok, "stay": "1"})
            if r.status_code != 302:
                errors.append((k, i, r.status_code))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    rows = st.db.all_decisions()
    assert len(rows) == 100
    lines = _decision_lines(st.annotations_dir / "documents-decisions.jsonl")  # each line whole JSON
    assert sorted(r["decision_id"] for r in lines) == [r["id"] for r in rows]  # each decision once
    assert {(r["decision_id"], r["site"], r["decision"]) for r in lines} == {
        (r["id"], r["site"], r["decision"]) for r in rows}
    # training reads the latest decision per site (and document), as the compacted file has it
    latest = st.db.latest_decisions()
    appended = _trained(st.annotations_dir)
    want = {f"site:{s}": d["decision"] for s, d in latest.items() if d["decision"] != "unsure"}
    assert {g: ("accept" if is_csei else "reject") for _, g, _, is_csei, _, _ in appended} == want
    assert [r["id"] for r in training_records(st.db, st.store_path)] == [d for d, *_ in appended]
    c, tok = clients[0]
    c.post("/export/training", data={"csrf_token": tok})
    assert _trained(st.annotations_dir) == appended


def test_two_analysts_deciding_at_once_lose_nothing(app, live_server):
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    sites = ["zelenalhota.cz", "klaster-hornarieka.sk", "klaster-borylipiny.pl"]

    def worker(name: str, errors: list) -> None:
        jar = CookieJar()
        op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        try:
            tok = csrf_of(op.open(live_server + "/login").read().decode())
            op.open(live_server + "/login", urllib.parse.urlencode(
                {"name": name, "password": PASSWORD, "csrf_token": tok}).encode())
            tok = csrf_of(op.open(live_server + "/guidelines").read().decode())
            for i in range(10):
                for s in sites:
                    op.open(f"{live_server}/candidate/{s}/decision", urllib.parse.urlencode(
                        {"decision": ("accept", "reject", "unsure")[i % 3], "note": f"{name} {i}",
                         "csrf_token": tok}).encode())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    errors: list = []
    threads = [threading.Thread(target=worker, args=(n, errors)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    rows = app.extensions["csei"].db.all_decisions()
    assert len(rows) == 2 * 10 * len(sites)
    assert {(r["user_name"], r["note"], r["site"]) for r in rows} == {
        (n, f"{n} {i}", s) for n in ("alice", "bob") for i in range(10) for s in sites}
    # the training file, appended to by every one of those requests, reads as the final state of all of them
    from csei_nlp.annotate.decisions import training_records

    st = app.extensions["csei"]
    assert len(_decision_lines(st.annotations_dir / "documents-decisions.jsonl")) == len(rows)
    assert [d for d, *_ in _trained(st.annotations_dir)] == [r["id"] for r in training_records(st.db, st.store_path)]


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_candidate_page_shows_the_scans_score_explanations(app):
    c = app.test_client()
    login(c, "alice")
    r = c.get("/candidate/zelenalhota.cz")
    assert r.status_code == 200
    # one-line explanations computed by rank.py for this candidate, not only generic help
    assert "inclusion criteria shown" in r.text
    assert "actor types" in r.text


def test_overview_charts_link_to_the_filtered_ranking(app):
    c = app.test_client()
    login(c, "alice")
    page = c.get("/overview").text
    links = set(re.findall(r'<a href="(/ranking\?[^"]+)">', page))
    assert "/ranking?country=PL" in links and "/ranking?decision=pending" in links
    assert any(h.startswith(("/ranking?tag=helix%3A", "/ranking?tag=helix:")) for h in links)
    assert any("min_score=0.9" in h and "max_score=1" in h for h in links)
    # each link opens a ranking whose candidates match what the bar counted
    pl = _csv(c.get("/export/ranking.csv?country=PL").text)
    assert pl and {r["country"] for r in pl} == {"PL"}
    counted = re.search(r">PL</text>.*?>(\d+)</text>", page)
    assert counted and int(counted.group(1)) == len(pl)
