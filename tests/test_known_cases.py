"""corpora/known_csei.csv: the 70 potential CSEI of the GECES 2021 report, Appendices III-IV."""
from __future__ import annotations

import csv

import pytest

from csei_nlp.country import country_from_tld
from csei_nlp.taxonomy import COUNTRY_NAMES


@pytest.fixture(scope="module")
def rows(repo_dir):
    with open(repo_dir / "corpora" / "known_csei.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert header == ["name", "country", "website", "analysed_in_report", "eccp_registered"]
        out = []
        for n, row in enumerate(reader, start=2):
            assert len(row) == 5, f"line {n}: {row}"
            out.append(dict(zip(header, row)))
    return out


def test_seventy_unique_cases(rows):
    assert len(rows) == 70
    names = [r["name"] for r in rows]
    assert len(set(names)) == 70
    assert all(n.strip() == n and n for n in names)


def test_fields(rows):
    for r in rows:
        assert r["country"] in COUNTRY_NAMES, r
        assert r["analysed_in_report"] in ("true", "false") and r["eccp_registered"] in ("true", "false")
        for url in filter(None, r["website"].split("; ")):
            assert url.startswith(("http://", "https://")) and " " not in url, r


def test_counts_match_the_report(rows):
    # Appendix III lists the 30 analysed cases; Appendix IV marks 12 as ECCP registered.
    assert sum(r["analysed_in_report"] == "true" for r in rows) == 30
    assert sum(r["eccp_registered"] == "true" for r in rows) == 12
    cee = {r["name"] for r in rows if r["country"] in {"PL", "CZ", "HR", "RO", "RS", "UA", "BG", "LT"}}
    assert "Łomża Social Economy Cluster" in cee and "Cooperative cluster" in cee


def test_country_agrees_with_website_tld(rows):
    checked = 0
    for r in rows:
        for url in filter(None, r["website"].split("; ")):
            tld_country = country_from_tld(url)
            if tld_country:
                checked += 1
                assert tld_country == r["country"], (r["name"], url)
    assert checked >= 30
