"""Discovery from Common Crawl against a local mini crawl (tests/discover/minicc.py): the index
selects, each selected record is read with one range request of exactly its offset and length,
faults are retried or recorded, the pages are scanned into the job's outputs, a second run asks
for nothing, and candidate hosts are expanded with their members pages."""
from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

import minicc
from csei_nlp.cli import main
from csei_nlp.discover.commoncrawl.fetch import FetchSettings, RateLimiter, check_record, fetch_all
from csei_nlp.discover.commoncrawl.select import term_patterns
from csei_nlp.discover.job import load_job
from csei_nlp.discover.runner import run_job
from csei_nlp.errors import ConfigError
from csei_nlp.store.ccindex import CCIndex, IndexFilter

FAST = """concurrency = 4
requests_per_s = 0
retries = 2
backoff_s = 0.01
timeout_s = 10
"""


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> minicc.MiniCC:
    return minicc.build(tmp_path_factory.mktemp("minicc"))


def _job(helpers, folder: Path, cc: minicc.MiniCC, prefix: str, body: str) -> Path:
    table = f'[inputs.commoncrawl]\nindex = ["{cc.index_glob}"]\nwarc_prefix = "{prefix}"\n{FAST}{body}'
    return helpers.write_job(folder, shard_size=10, extra=table)


def _doc_urls(job) -> set[str]:
    con = sqlite3.connect(job.state_dir / "store" / "csei.sqlite")
    try:
        return {r[0] for r in con.execute("SELECT url FROM documents WHERE status='ok'")}
    finally:
        con.close()


def test_job_fetches_exactly_the_selection_by_range_and_never_twice(crawl, helpers, tmp_path):
    selected = crawl.selected(minicc.CEE_TLDS)
    pages = [r for r in selected if r.kind == "page"]
    r503, rshort = pages[0], pages[5]
    faults = {(r503.warc_filename, r503.offset): "503", (rshort.warc_filename, rshort.offset): "short"}
    with minicc.Server(crawl.root, faults) as server:
        tlds = ", ".join(f'"{t}"' for t in minicc.CEE_TLDS)
        job = load_job(_job(helpers, tmp_path, crawl, server.url, f"tlds = [{tlds}]\nexpand_per_host = 0\n"))
        r1 = run_job(job)
        log1 = list(server.log)

        # every request is a range request, for a selected record, of exactly its bytes
        assert all(rng is not None for _, rng, _ in log1), "a whole-file GET was made"
        asked = Counter((path, rng) for path, rng, _ in log1)
        want = {(r.warc_filename, r.range) for r in selected}
        assert set(asked) == want
        retried = {(r503.warc_filename, r503.range), (rshort.warc_filename, rshort.range)}
        assert {k for k, n in asked.items() if n > 1} == retried and all(asked[k] == 2 for k in retried)
        assert [s for p, rng, s in log1 if (p, rng) == (r503.warc_filename, r503.range)] == [503, 206]

        # the pages are scanned into the job's outputs; the faults that a retry fixed are among them
        assert r1.exit_code == 0 and r1.status == "partial"
        assert _doc_urls(job) == {r.url for r in selected if r.kind == "page"}
        sites = {json.loads(line)["site"] for line in (job.state_dir / "candidates.jsonl").read_text().splitlines()}
        assert {"klaster-borylipiny.pl", "klaster-hornarieka.sk", "zelenalhota.cz"} <= sites
        assert not sites & {"gruenes-wiesenthal.de", "trakia-digital.bg"}  # outside the TLD filter
        warcs = sorted(p.name for p in job.crawl_dir.glob("cc-*.warc.gz"))
        assert len(warcs) == 1 and r1.counts["commoncrawl"]["fetched"] == len(pages)

        # what failed for good is in failures.jsonl with its reason, and is not asked for again
        fails = [json.loads(l) for l in (job.state_dir / "failures.jsonl").read_text("utf-8").splitlines()]
        assert sorted((f["url"], f["reason"], f["retry_next_run"]) for f in fails) == [
            ("https://www.klaster-hornarieka.sk/archiv.html", "corrupt", False),
            ("https://www.kr-podjavorsky.cz/archiv.html", "not_found", False)]

        # a second run makes no request and scans nothing
        r2 = run_job(job)
        assert server.log == log1
        assert r2.new_files == [] and r2.counts["commoncrawl"]["records"] == 0

        # the preview reads the index only: no request either
        assert main(["cc", "preview", "--job", str(job.path), "--format", "json"]) == 0
        assert server.log == log1


def test_candidate_hosts_are_expanded_members_pages_first(crawl, helpers, tmp_path):
    with minicc.Server(crawl.root) as server:
        job = load_job(_job(helpers, tmp_path, crawl, server.url,
                            'tlds = ["pl"]\nurl_contains = ["O-KLASTR"]\nexpand_per_host = 1\n'))
        r1 = run_job(job)
        assert r1.counts["commoncrawl"]["fetched"] == 1
        # one more page of the candidate's site: its members page, not the site's shorter news page
        assert r1.counts["commoncrawl_expansion"] == {"sites": 1, "records": 1, "fetched": 1, "failed": 0,
                                                      "bytes": r1.counts["commoncrawl_expansion"]["bytes"],
                                                      "requests": 1, "warcs": [f"cc-{r1.run_id}-expand-0000.warc.gz"]}
        assert _doc_urls(job) == {"https://www.klaster-borylipiny.pl/o-klastrze.html",
                                  "https://www.klaster-borylipiny.pl/czlonkowie.html"}
        assert "klaster-borylipiny.pl" in (job.state_dir / "candidates.csv").read_text("utf-8")
        assert len(server.log) == 2 and all(rng for _, rng, _ in server.log)
        r2 = run_job(job)  # a site is expanded once
        assert len(server.log) == 2 and r2.new_files == []


def test_transient_failures_are_asked_for_again_by_the_next_run_permanent_ones_never(crawl, helpers, tmp_path):
    from csei_nlp.discover.commoncrawl.step import fetch_selection
    from csei_nlp.discover.state import StateDB

    sk = crawl.selected(["sk"])
    down, whole = [r for r in sk if r.kind == "page"]
    faults = {(down.warc_filename, down.offset): "down", (whole.warc_filename, whole.offset): "whole"}
    with minicc.Server(crawl.root, faults) as server:
        job = load_job(_job(helpers, tmp_path, crawl, server.url, 'tlds = ["sk"]\n'))
        st = StateDB(job.state_dir)
        try:
            c1 = fetch_selection(job, st, "run-1")
            assert (c1["fetched"], c1["failed"], c1["requests"]) == (0, 3, 3 + 1 + 1)  # 503: 1 + 2 retries
            fails = {f["url"]: f for f in map(json.loads, (job.state_dir / "failures.jsonl").read_text("utf-8").splitlines())}
            assert (fails[down.url]["reason"], fails[down.url]["attempts"], fails[down.url]["retry_next_run"]) == (
                "http_503", 3, True)
            # a server that ignores Range would send the whole file: not read, not retried
            assert (fails[whole.url]["reason"], fails[whole.url]["retry_next_run"]) == ("range_ignored", False)
            server.faults.clear()
            n = len(server.log)
            c2 = fetch_selection(job, st, "run-2")  # only the transient failure is asked for again
            assert server.log[n:] == [(down.warc_filename, down.range, 206)] and c2["fetched"] == 1
            c3 = fetch_selection(job, st, "run-3")
            assert c3["records"] == 0 and len(server.log) == n + 1
            assert st.cc_counts() == {"failed": 2, "fetched": 1}
        finally:
            st.close()


def test_preview_counts_without_fetching(crawl, helpers, tmp_path, capsys):
    job_file = _job(helpers, tmp_path, crawl, "http://127.0.0.1:9/", 'url_terms = "self_designation"\n')
    assert main(["cc", "preview", "--job", str(job_file), "--format", "json", "--samples", "50"]) == 0
    p = json.loads(capsys.readouterr().out)
    # cue terms of the CEE languages in the URL: klaster (pl, sk, cs, bg ...), klaszter (hu),
    # klasteris (lt), hálózat (hu); not the Western sites, not the Czech bakery
    urls = set(p["samples"])
    assert p["records"] == len(urls)
    assert {"https://www.klaster-borylipiny.pl/o-klastrze.html", "https://www.fenyvesi-autoklaszter.hu/index.html",
            "https://www.fotonikos-klasteris.lt/index.html", "https://www.szvoh.hu/a-halozatrol.html"} <= urls
    assert not any(u.endswith((".de/mitglieder.html", "pekarna-triklasky.cz/index.html")) for u in urls)
    assert p["bytes"] > 0 and dict(p["by_tld"])["lt"] >= 2
    assert main(["cc", "preview", "--job", str(job_file)]) == 0
    text = capsys.readouterr().out
    assert "by TLD:" in text and "by language:" in text and "lit" in text


def test_url_terms_reach_percent_encoded_cyrillic():
    import re

    pats = term_patterns(["self_designation"], ["bg"])
    url = "https://example.bg/%D0%9A%D0%BB%D1%8A%D1%81%D1%82%D0%B5%D1%80%D1%8A%D1%82-za-nas".lower()
    assert any(re.search(p, url) for p in pats)  # "клъстерът"
    assert not any(re.search(p, "https://example.bg/za-nas/kontakti") for p in pats)


def test_index_filters_languages_and_types(crawl):
    with CCIndex([crawl.index_glob]) as ix:
        recs = ix.select(IndexFilter(languages=("lit", "bul")))
        assert {r.tld for r in recs} == {"lt", "bg"} and all(r.mime == "text/html" for r in recs)
        assert not any(r.url.endswith(("robots.txt", ".jpg", "/regi/", "stara-stranka.html"))
                       for r in ix.select(IndexFilter()))
        assert len(ix.select(IndexFilter(limit=5))) == 5


def test_local_folder_prefix_and_rate_limit(crawl):
    rows = [r for r in crawl.rows if r.kind == "page"][:6]
    from csei_nlp.store.ccindex import IndexRecord

    recs = [IndexRecord(r.url, r.site, r.tld, r.languages, r.mime, r.warc_filename, r.offset, r.length)
            for r in rows]
    out = list(fetch_all(str(crawl.root), recs, FetchSettings(concurrency=3, requests_per_s=0)))
    assert all(f.ok and f.attempts == 1 for f in out)
    assert [check_record(f.data) for f in out] == [r.url for r in rows]
    # an index row whose offset holds another URL's record (a wrong or stale index) is not kept
    wrong = IndexRecord(rows[1].url, *[getattr(recs[0], k) for k in
                                       ("site", "tld", "languages", "mime", "warc_filename", "offset", "length")])
    (bad,) = fetch_all(str(crawl.root), [wrong], FetchSettings(requests_per_s=0))
    assert (bad.ok, bad.reason, bad.attempts, bad.retry_later) == (False, "mismatch", 1, False)
    t = [0.0]
    waits: list[float] = []
    lim = RateLimiter(4.0, clock=lambda: t[0], sleep=waits.append)
    for _ in range(5):
        lim.acquire()
    assert waits == [0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize("body, msg", [
    ('languages = ["pl"]', "ISO 639-3"),
    ('tlds = [".pl"]', "tlds"),
    ("max_records = -1", "max_records"),
    ('warc_prefix = "s3://commoncrawl/"', "warc_prefix"),
    ("colour = 1", "unknown key 'colour' in [inputs.commoncrawl]"),
])
def test_bad_commoncrawl_table_is_a_config_error(helpers, tmp_path, body, msg):
    job_file = helpers.write_job(tmp_path, extra=f'[inputs.commoncrawl]\nindex = ["x/*.parquet"]\n{body}\n')
    with pytest.raises(ConfigError, match="inputs.commoncrawl") as err:
        load_job(job_file)
    assert msg in str(err.value) and str(job_file) in str(err.value)


def test_fetch_runs_as_ray_tasks(crawl):
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    from csei_nlp.discover.commoncrawl.fetch import fetch_ray
    from csei_nlp.store.ccindex import IndexRecord

    rows = [r for r in crawl.rows if r.kind in ("page", "missing")]
    recs = [IndexRecord(r.url, r.site, r.tld, r.languages, r.mime, r.warc_filename, r.offset, r.length)
            for r in rows]
    # address="local": a new instance of our own, even if another process on this machine runs one
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        out = list(fetch_ray(str(crawl.root), recs, FetchSettings(concurrency=4, requests_per_s=0), batch_size=8))
    finally:
        ray.shutdown()
    assert [f.record.url for f in out] == [r.url for r in rows]
    assert [f.reason for f in out if not f.ok] == ["not_found"]
    assert all(f.data is not None and len(f.data) == f.record.length for f in out if f.ok)
