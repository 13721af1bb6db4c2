"""`make sample` with the shipped models: the sample's clusters rank first, and no report or folder does.

The bundled sample (corpora/sample, described by corpora/sample.manifest.jsonl) has 16 websites about
one specific CSEI among federations, agencies, industrial clusters, single cooperatives and ordinary
pages, and two PDF files without a URL: an excerpt of the GECES report (about CSEIs in general) and the
newsletter of a Slovak social-economy partnership (a municipality, registered social enterprises, a
vocational school, a university department, a bank and firms with a common fund), which the manifest
does not list.  Measured with this release: 15 of the 16 clusters rank first among websites; a national
federation of recycling shops (rnrs-reseau.fr, 0.68) outranks the Spanish cluster whose best page reads
least like one organisation (subject 0.74, score 0.53).  The newsletter ranks 11th, as the partnership
it describes is one; the report excerpt is no candidate at all.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.scan import run_scan

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("sample-scan")
    run_scan([REPO / "corpora" / "sample"], out, config.load())
    return [json.loads(x) for x in (out / "candidates.jsonl").read_text("utf-8").splitlines() if x.strip()]


def _websites_and_clusters(ranked: list[dict]) -> tuple[list[str], set[str]]:
    manifest = [json.loads(x) for x in (REPO / "corpora" / "sample.manifest.jsonl").read_text("utf-8").splitlines()]
    positives = {r["site"] for r in manifest if r["is_csei"]}
    assert len(positives) == 16
    return [c["site"] for c in ranked if not c["site"].startswith(("file:", "dir:"))], positives


def test_at_most_one_other_website_outranks_a_sample_cluster(ranked):
    websites, positives = _websites_and_clusters(ranked)
    last = max(websites.index(p) for p in positives)
    intruders = [s for s in websites[:last] if s not in positives]
    assert len(intruders) <= 1, intruders
    assert set(websites[:15]) <= positives


@pytest.mark.xfail(strict=True, reason="goal of issue 10 not met yet: a national federation outranks one cluster")
def test_the_sample_clusters_rank_above_every_other_website(ranked):
    websites, positives = _websites_and_clusters(ranked)
    assert set(websites[:16]) == positives, f"not a sample cluster: {sorted(set(websites[:16]) - positives)}"


def test_files_without_a_url_are_their_own_source_and_a_general_report_is_no_candidate(ranked):
    sites = [c["site"] for c in ranked]
    assert not [s for s in sites if s.startswith("dir:")]
    assert not [s for s in sites if "geces" in s], "the report excerpt is about CSEIs in general"
    files = [s for s in sites if s.startswith("file:")]
    assert len(files) == 1 and files[0].endswith("corpora/sample/reports/spravodajca_partnerstvo_dolna_luka.pdf")
