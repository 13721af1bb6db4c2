"""The ranking's numbered pages: what each page holds, the links (filters and sort kept), odd page numbers."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import login, make_users

PAGE_SIZE = 4


@pytest.fixture()
def paged_app(scan_out, tmp_path):
    """The scanned store with 30 more candidates ("Walk cluster NN", ties in score and documents), 4 to a page."""
    from csei_nlp import config
    from csei_nlp.store.sqlite import Store
    from csei_nlp.web.app import create_app

    with Store(scan_out) as store:
        cands = store.candidates()
        run_id = cands[0]["run_id"]
        # scores in pairs and equal document counts: the name and documents sorts need their tie-break
        # and a few without a name (NULL sorts first, and never compares)
        extra = [{**cands[0], "site": f"walk-{i:02d}.example.org",
                  "name": f"Walk cluster {29 - i:02d}" if i % 7 else None,
                  "score": round(0.3 - (i // 2) / 1000, 4)} for i in range(30)]
        allc = sorted(cands + extra, key=lambda c: (-c["score"], c["site"]))
        for rank, c in enumerate(allc, 1):
            c["rank"] = rank
        store.replace_candidates(allc, run_id)
    cfg = config.load(overrides={"web": {"page_size": PAGE_SIZE}})
    a = create_app(scan_out, cfg, annotations_dir=tmp_path / "annotations", models_dir=tmp_path / "no-models")
    make_users(a)
    yield a
    a.extensions["csei"].db.dispose()


def _order(client, query: str) -> list[str]:
    return [r["site"] for r in csv.DictReader(io.StringIO(client.get("/export/ranking.csv?" + query).text))]


def _rows(html: str) -> list[str]:
    return re.findall(r'<a class="cand" href="/candidate/([^"?]+)', html)


def _pager(html: str) -> str:
    return html[html.index('<nav class="pager"'):html.index("</nav>", html.index('<nav class="pager"'))]


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unescape(href)).query)


def test_every_page_in_every_sort_holds_its_slice_of_the_order(paged_app):
    c = paged_app.test_client()
    login(c, "alice")
    for query in ("", "sort=name", "sort=score_asc", "sort=documents", "q=walk&sort=documents", "q=walk&sort=name"):
        order = _order(c, query)
        pages = -(-len(order) // PAGE_SIZE)
        seen = []
        for n in range(1, pages + 1):
            html = c.get(f"/ranking?{query}&page={n}").text
            assert _rows(html) == order[(n - 1) * PAGE_SIZE:n * PAGE_SIZE], (query, n)
            seen += _rows(html)
        assert seen == order, query  # no candidate twice, none left out, even among ties


def test_page_links_numbers_and_counts_keep_filters_and_sort(paged_app):
    c = paged_app.test_client()
    login(c, "alice")
    order = _order(c, "q=walk&sort=name")
    assert len(order) == 30  # 8 pages of 4
    html = c.get("/ranking?q=walk&sort=name&page=4").text
    assert "Showing 13–16 of 30" in html
    pager = _pager(html)
    # first, previous, 1 ... 2 3 [4] 5 6 ... 8, next, last
    numbers = re.findall(r'class="pnum">(\d+)</a>|<span class="current" aria-current="page">(\d+)</span>|'
                         r'(<span class="gap">…</span>)', pager)
    shown = [a or (f"[{b}]" if b else "…") for a, b, _ in numbers]
    assert shown == ["1", "2", "3", "[4]", "5", "6", "7", "8"]  # a one-page gap shows the page, not "…"
    for href in re.findall(r'href="([^"]+)"', pager):
        q = _query(href)
        assert q["q"] == ["walk"] and q["sort"] == ["name"], href
    assert _query(re.search(r'href="([^"]+)" id="first-page"', pager).group(1)).get("page") is None
    assert _query(re.search(r'href="([^"]+)" id="prev-page"', pager).group(1))["page"] == ["3"]
    assert _query(re.search(r'href="([^"]+)" id="next-page"', pager).group(1))["page"] == ["5"]
    assert _query(re.search(r'href="([^"]+)" id="last-page"', pager).group(1))["page"] == ["8"]
    pager = _pager(c.get("/ranking?q=walk&sort=name&page=7").text)
    assert pager.count('<span class="gap">…</span>') == 1 and ">5</a>" in pager and ">4</a>" not in pager
    # the first page has no first/previous links, the last none to the next
    first = _pager(c.get("/ranking?q=walk&sort=name").text)
    assert 'id="prev-page"' not in first and 'id="next-page"' in first and "Showing 1–4 of 30" in first
    last = c.get("/ranking?q=walk&sort=name&page=8").text
    assert 'id="next-page"' not in _pager(last) and "Showing 29–30 of 30" in last
    assert _rows(last) == order[28:]
    # candidate links keep the working order (not the page: the way back finds it, see below)
    assert f'href="/candidate/{order[28]}?q=walk&amp;sort=name"' in last
    # one page only: no page links at all
    one = _pager(c.get("/ranking?q=hornarieka").text)
    assert "Showing 1–1 of 1" in one and "pnum" not in one and 'id="next-page"' not in one
    none = c.get("/ranking?q=no-such-candidate").text
    assert "No candidates" in _pager(none) and "No candidate matches" in none


@pytest.mark.parametrize("raw, shown, message", [
    ("0", 1, "There is no page 0"),
    ("-3", 1, "is not a page number"),
    ("abc", 1, "is not a page number"),
    ("2.5", 1, "is not a page number"),
    ("1e3", 1, "is not a page number"),
    ("%D9%A3", 1, "is not a page number"),  # an Arabic-Indic three: int() would take it
    ("99", 8, "There is no page 99 with these filters; showing the last page, 8."),
    ("99999999999999999999999", 8, "showing the last page, 8"),
    ("9" * 5000, 8, "showing the last page, 8"),  # int() refuses strings this long
    ("%202%20", 2, None),
    ("", 1, None),
])
def test_odd_page_numbers_show_a_page_and_say_how_they_were_read(paged_app, raw, shown, message):
    c = paged_app.test_client()
    login(c, "alice")
    order = _order(c, "q=walk")
    r = c.get(f"/ranking?q=walk&page={raw}")
    assert r.status_code == 200
    assert _rows(r.text) == order[(shown - 1) * PAGE_SIZE:shown * PAGE_SIZE]
    assert f'<span class="current" aria-current="page">{shown}</span>' in r.text
    if message:
        assert message in unescape(r.text)
    else:
        assert 'class="flash warn"' not in r.text
    r = c.get("/ranking?page=<script>x")
    assert "&lt;script&gt;x" in r.text and "<script>x" not in r.text  # the message quotes it escaped


def test_the_window_of_page_numbers():
    from csei_nlp.web.blueprints.review import Pager

    def shown(page: int, last: int) -> list[int | None]:
        return [n for n, _ in Pager.build(page, last, last * 10, 10, 10, lambda n: f"/p{n}").links]

    assert shown(50, 100) == [1, None, 48, 49, 50, 51, 52, None, 100]
    assert shown(1, 100) == [1, 2, 3, None, 100]
    assert shown(100, 100) == [1, None, 98, 99, 100]
    assert shown(4, 7) == [1, 2, 3, 4, 5, 6, 7]  # a gap of one page shows that page
    assert shown(1, 1) == [1]
    p = Pager.build(3, 3, 25, 5, 10, lambda n: f"/p{n}")
    assert (p.first_row, p.last_row, p.next_url, p.prev_url) == (21, 25, None, "/p2")


def test_back_to_the_ranking_opens_the_page_around_the_candidate(paged_app):
    c = paged_app.test_client()
    tok = login(c, "alice")
    order = _order(c, "q=walk&sort=name")
    site = order[13]  # page 4
    html = c.get(f"/candidate/{site}?q=walk&sort=name").text
    back = unescape(re.search(r'href="([^"]+)" id="back-to-ranking"', html).group(1))
    assert urlsplit(back).fragment == "here" and _query(back) == {"at": [site], "q": ["walk"], "sort": ["name"]}
    page = c.get(back).text
    assert "Showing 13–16 of 30" in page and f'<tr class="here" id="here">' in page
    assert _rows(page) == order[12:16]
    # decided under "pending", it leaves the list: the way back opens where it stood
    c.post(f"/candidate/{site}/decision", data={"decision": "accept", "csrf_token": tok,
                                                 "ctx": "q=walk&sort=name&decision=pending"})
    page = c.get(f"/ranking?q=walk&sort=name&decision=pending&at={site}").text
    assert site not in _rows(page) and "Showing 13–16 of 29" in page
    # an unknown site, or an explicit page, wins over nothing: no 500, the first or the named page
    assert "Showing 1–4 of 30" in c.get("/ranking?q=walk&at=nowhere.example").text
    assert "Showing 5–8 of 30" in c.get(f"/ranking?q=walk&sort=name&at={site}&page=2").text
