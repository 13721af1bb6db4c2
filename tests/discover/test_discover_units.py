"""Job files, the diff, the feed and the scheduler (no scanning); the queries: test_discover_queries.py."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from csei_nlp.discover.diff import diff_candidates
from csei_nlp.discover.digest import build_digest, digest_html, digest_markdown
from csei_nlp.discover.feed import atom_feed
from csei_nlp.discover.job import load_job
from csei_nlp.discover.cron import next_fire_times, parse_cron
from csei_nlp.discover.schedule import make_scheduler
from csei_nlp.errors import ConfigError

ATOM = "{http://www.w3.org/2005/Atom}"


def _cand(site, score, country="", cee=False, known=False, name=None):
    return {"site": site, "name": name or site, "score": score, "rank": 1, "country": country, "cee": cee,
            "known": known, "known_name": None, "n_documents": 1, "languages": [], "urls": [],
            "tags": {}, "evidence": {}}


def test_diff_kinds_thresholds_and_focus_first():
    prev = {c["site"]: c for c in [_cand("up.fr", 0.2), _cand("down.pl", 0.6, "PL", True),
                                   _cand("gone.hu", 0.7, "HU", True), _cand("quiet.de", 0.1),
                                   _cand("same.cz", 0.8, "CZ", True)]}
    cur = [_cand("up.fr", 0.55), _cand("down.pl", 0.3, "PL", True), _cand("same.cz", 0.9, "CZ", True),
           _cand("new.de", 0.9, "DE"), _cand("new.sk", 0.5, "SK", True), _cand("low.it", 0.1),
           _cand("known.es", 0.9, "ES", known=True)]
    rows = diff_candidates(prev, cur, min_score=0.5, include_known=False, is_focus=lambda r: bool(r["cee"]))
    assert [(r["change"], r["site"]) for r in rows] == [
        ("new", "new.sk"), ("new", "new.de"), ("rose", "up.fr"), ("fell", "down.pl"), ("disappeared", "gone.hu")]
    assert rows[2]["prev_score"] == 0.2 and rows[4]["score"] is None
    with_known = diff_candidates(prev, cur, min_score=0.5, include_known=True, is_focus=lambda r: False)
    assert ("new", "known.es") in [(r["change"], r["site"]) for r in with_known]


def test_feed_is_atom_with_stable_ids_and_digest_escapes(helpers):
    web = _cand("a.pl", 0.9, "PL", True, name="<script>alert(1)</script>")
    web["urls"] = ["https://a.pl/o-nas"]
    pdfs = _cand("file:/data/reports/klaster.pdf", 0.8, "PL", True)  # a folder of PDFs: no web address
    pdfs["urls"] = ["/data/reports/klaster.pdf"]
    rows = diff_candidates({}, [web, pdfs], min_score=0.5, include_known=False, is_focus=lambda r: True)
    feed_rows = [{**r, "run_id": "R1", "finished": "2026-11-23T03:00:00+00:00"} for r in rows]
    xml1 = atom_feed(feed_rows, job="j", title="T", updated="2026-11-01T03:00:00+00:00")
    xml2 = atom_feed(feed_rows, job="j", title="T", updated="2026-11-30T03:00:00+00:00")
    assert xml1 == xml2  # the feed's time is its newest entry's, not the time it was written
    root, entries = helpers.atom_entries(xml1.encode())
    assert root.findtext(f"{ATOM}updated") == "2026-11-23T03:00:00+00:00"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "feed.xml"
    links = {e.findtext(f"{ATOM}title"): e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries}
    assert links["New: <script>alert(1)</script> (PL)"] == "https://a.pl/o-nas"
    pdf_link = links["New: file:/data/reports/klaster.pdf (PL)"]
    assert pdf_link.startswith("../R1/digest.html#c-")
    assert all(e.findtext(f"{ATOM}id").startswith("urn:uuid:") for e in entries)
    empty = atom_feed([], job="j", title="T", updated="2026-11-01T03:00:00+00:00", feed_url="https://x/feed.xml")
    root, _ = helpers.atom_entries(empty.encode())
    assert root.findtext(f"{ATOM}updated") == "2026-11-01T03:00:00+00:00"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "https://x/feed.xml"
    d = build_digest(rows, title="T", run_id="R1", finished="now", min_score=0.5, focus_label="CEE")
    html = digest_html(d)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert f'id="{pdf_link.split("#")[1]}"' in html  # the feed's link lands on the PDF candidate's row
    md = digest_markdown(d)
    assert "<script>" not in md and r"\<script\>alert\(1\)\</script\>" in md


def test_job_paths_resolve_against_the_job_folder_and_errors_name_file_and_key(tmp_path, monkeypatch):
    folder = tmp_path / "jobs"
    folder.mkdir()
    job = folder / "j.toml"
    base = '[job]\nname = "j"\nstate = "st"\n[inputs]\npaths = ["in/*.html"]\n[report]\ndir = "rep"\n'
    job.write_text(base, "utf-8")
    monkeypatch.chdir(tmp_path)
    j = load_job(job)
    assert j.state_dir == folder / "st" and j.report_dir == folder / "rep"
    assert j.input_patterns == [str(folder / "in/*.html")]
    assert j.focus_cee and "pl" in j.crawl.prefer_languages
    for bad, needle in [(base + "[focus]\ncee = 1\n", "[focus] cee"),
                        (base + "[report]\n", "not valid TOML"),
                        (base.replace('name = "j"\n', ""), "'name' in [job]"),
                        (base + "[schedule]\ncron = \"61 * * * *\"\n", "[schedule] cron"),
                        (base + "[config.language]\nbackend = \"x\"\n", "backend"),
                        (base + "[extra]\n", "unknown section [extra]")]:
        job.write_text(bad, "utf-8")
        with pytest.raises(ConfigError) as err:
            load_job(job)
        assert str(job) in str(err.value) or "command line" in str(err.value)
        assert needle in str(err.value)


def test_cron_parsing_and_one_immediate_scheduled_run(tmp_path, helpers):
    start = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    fires = next_fire_times("0 3 * * 1", start, 2)
    assert [f.isoformat() for f in fires] == ["2026-11-30T03:00:00+00:00", "2026-12-07T03:00:00+00:00"]
    # cron's weekday numbers: 0 and 7 are Sunday, 1-5 Monday to Friday
    assert next_fire_times("30 6 * * 0", start, 1)[0].isoformat() == "2026-11-29T06:30:00+00:00"
    assert next_fire_times("0 3 * * 7", start, 1) == next_fire_times("0 3 * * sun", start, 1)
    assert [f.weekday() for f in next_fire_times("0 0 * * 1-5", start, 5)] == [3, 4, 0, 1, 2]
    for bad in ("0 3 * *", "0 25 * * 1", "every monday", "0 3 * * 9"):
        with pytest.raises(ConfigError):
            parse_cron(bad)
    job_file = helpers.write_job(tmp_path)
    helpers.add_sites(tmp_path / "corpus", ["zelenalhota.cz"])
    sched = make_scheduler([job_file], "0 3 * * 1", run_now=True, once=True)
    sched.start()  # returns after the immediate run (once=True)
    assert sched.csei_results == {"test-job": 0}
    runs = helpers.run_cli("runs", "--job", str(job_file), "--format", "jsonl").stdout.splitlines()
    assert len(runs) == 1 and json.loads(runs[0])["counts"]["candidates"] == 1
