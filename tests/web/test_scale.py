"""The ranking query at 100,000 candidates: keyset and numbered pages use an index (plan checked, no timing)."""
from __future__ import annotations

import json
import random

from csei_nlp.store.sqlite import Store
from csei_nlp.store.catalog import Catalog, Filters


class _Args(dict):
    def getlist(self, k):
        v = self.get(k, [])
        return v if isinstance(v, list) else [v]


def test_keyset_pages_use_indexes_at_100k(tmp_path):
    rnd = random.Random(7)
    store = Store(tmp_path)
    countries = ["PL", "CZ", "SK", "HU", "DE", "FR", "IT", "ES", "RO", "BG"]
    rows = []
    for i in range(100_000):
        c = countries[i % len(countries)]
        rows.append((f"site{i:06d}.example", i + 1, round(1 - i / 100_000, 6), "{}", c,
                     int(c in ("PL", "CZ", "SK", "HU", "RO", "BG")), int(i % 97 == 0), None, 1 + i % 5,
                     json.dumps([c.lower()]), json.dumps({"helix": ["business"] if i % 3 else []}), "{}",
                     f"Cluster {rnd.randint(0, 10**6)}", "r", "{}"))
    store.conn.executemany("INSERT INTO candidates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    store.conn.commit()
    store.close()
    Catalog.prepare(tmp_path)
    cat = Catalog(tmp_path / "csei.sqlite")
    f = Filters.from_args(_Args(cee="1"))
    page1, nxt = cat.page(f, "rank", "", 50)
    page2, _ = cat.page(f, "rank", nxt, 50)
    assert len(page1) == len(page2) == 50 and page1[-1]["rank"] < page2[0]["rank"]
    for filt, sort in ((Filters.from_args(_Args(cee="1")), "rank"), (Filters(), "rank"),
                       (Filters.from_args(_Args(country="PL")), "rank"), (Filters(), "name"),
                       (Filters.from_args(_Args(known="new")), "rank"), (Filters(), "score_asc"),
                       (Filters(), "documents")):
        plan = " | ".join(cat.explain(filt, sort, nxt if sort == "rank" else "", 50))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (filt, sort, plan)
        assert "TEMP B-TREE" not in plan, (filt, sort, plan)  # no sort of the whole table
    assert cat.count(f) == 60_000
    # numbered pages: the row before page N is found on the index alone, whatever the depth
    deep = cat.page_at(f, "rank", 59_950, 50)
    assert len(deep) == 50 and cat.page_at(f, "rank", 60_000, 50) == []
    assert [r["rank"] for r in deep] == [r["rank"] for r in cat.page_at(f, "rank", 59_900, 100)[50:]]
    for filt, sort in ((Filters.from_args(_Args(cee="1")), "rank"), (Filters(), "rank"),
                       (Filters.from_args(_Args(country="PL")), "rank"), (Filters(), "name"),
                       (Filters(), "score_asc"), (Filters(), "documents")):
        plan = " | ".join(cat.explain_boundary(filt, sort, 50_000))
        assert "COVERING INDEX" in plan or "USING INDEX" in plan, (filt, sort, plan)
        assert "TEMP B-TREE" not in plan, (filt, sort, plan)
        assert cat.position(filt, sort, deep[0]["site"]) is not None
    assert cat.position(f, "rank", deep[0]["site"]) == 59_950
    cat.close()


def test_a_candidates_documents_are_looked_up_by_index_not_scanned(tmp_path):
    """The candidate page at 1M documents: its documents come from two index lookups (plan checked)."""
    store = Store(tmp_path)
    rows = [(f"d{j:06d}", "crawl.warc.gz", j, "html", "ok", None, None, f"https://s{j % 50}.example/{j}",
             f"s{j % 50}.example", None, f"Page {j}", None, None, "pl", "pl", None, None, "text", 4, 1, None, None,
             None, "{}", "{}", json.dumps({"candidate": f"s{(j + 1) % 50}.example" if j % 7 == 0 else f"s{j % 50}.example"}),
             "r") for j in range(5000)]
    store.conn.executemany("INSERT INTO documents VALUES (" + ",".join("?" * 27) + ")", rows)
    store.conn.commit()
    store.close()
    Catalog.prepare(tmp_path)
    cat = Catalog(tmp_path / "csei.sqlite")
    docs = cat.documents_of("s3.example")
    own = {r[0] for r in rows if r[8] == "s3.example"}
    attached = {r[0] for r in rows if json.loads(r[25])["candidate"] == "s3.example"}
    assert {d["id"] for d in docs} == own | attached and attached - own  # third-party pages attached to it too
    sql = cat.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'web_doc_candidate'").fetchone()[0]
    assert "json_extract(meta, '$.candidate')" in sql
    plan = " | ".join(cat.explain_documents_of("s3.example"))
    assert "web_doc_candidate" in plan and "documents_site" in plan and "documents_status" not in plan, plan
    cat.close()


def test_cached_counts_and_facets_follow_a_new_scan(scan_out):  # noqa: D103
    """Counts and facets are remembered per store state: a run that rewrites the candidates is seen at once."""
    with Store(scan_out) as store:
        cands = store.candidates()
    cat = Catalog(scan_out / "csei.sqlite")
    before = cat.count(Filters())
    assert before == len(cands) and cat.count(Filters()) == before  # the second answer comes from the cache
    countries = cat.facets()["countries"]
    with Store(scan_out) as store:
        store.replace_candidates([{**cands[0], "country": "MT"}], "r-later")
    assert cat.count(Filters()) == 1
    assert cat.facets()["countries"] == ["MT"] != countries
    cat.close()
