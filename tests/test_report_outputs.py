"""Outputs that stay usable at scale: report.html lists the top N, counts all; documents.parquet mirrors the JSONL.

Reads the session's scan of the bundled sample (``sample_scan``) and writes
the outputs again from its store under other report settings; the size check
renders a synthetic crawl of 10,000 candidates made of the sample's real ones.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import lxml.html
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from csei_nlp.config import ReportConfig
from csei_nlp.report.html import render_report
from csei_nlp.report.outputs import write_outputs
from csei_nlp.report.parquet import SCHEMA, DocumentsParquet
from csei_nlp.store.sqlite import Store


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def sample(sample_scan) -> tuple[list[dict], dict]:
    return _jsonl(sample_scan / "candidates.jsonl"), json.loads((sample_scan / "run.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def top5(sample_scan, sample, tmp_path_factory) -> Path:
    """The sample's outputs written again with ``[report] top_n = 5``, one evidence passage each."""
    cands, manifest = sample
    out = tmp_path_factory.mktemp("top5")
    with Store(sample_scan) as store:
        write_outputs(store, out, manifest, cands, ReportConfig(top_n=5, evidence_passages=1))
    return out


def _chart_values(page: lxml.html.HtmlElement, title: str) -> dict[str, int]:
    """label -> count of a bar chart of the report, read from its SVG text elements."""
    (card,) = page.xpath("//div[contains(@class, 'chart')][h2[normalize-space() = $t]]", t=title)
    texts = [t.text_content() for t in card.xpath(".//svg/text")]
    return {label: int(n) for label, n in zip(texts[::2], texts[1::2])}


def _histogram_counts(page: lxml.html.HtmlElement) -> list[int]:
    (card,) = page.xpath("//div[contains(@class, 'chart')][h2[starts-with(normalize-space(), 'Score distribution')]]")
    return [int(t.text_content()) for t in card.xpath(".//svg/text[@text-anchor = 'middle'][@font-size = '11']")]


def test_the_report_lists_the_top_n_and_counts_every_candidate(top5, sample):
    cands, _ = sample
    m = len(cands)
    assert m > 5
    page = lxml.html.fromstring((top5 / "report.html").read_bytes())
    rows = page.xpath("//tr[contains(@class, 'cand')]")
    assert [int(r.xpath("./td[1]")[0].text_content()) for r in rows] == [1, 2, 3, 4, 5]
    assert [r.xpath(".//strong")[0].text_content() for r in rows] == [c["name"] for c in cands[:5]]
    note = " ".join(page.xpath("//p[@id = 'shown-note']")[0].text_content().split())
    assert f"Showing the top 5 of {m} candidates" in note
    assert "candidates.csv / candidates.jsonl" in note
    # the charts count every candidate, not the five listed
    assert sum(_histogram_counts(page)) == m
    assert _chart_values(page, "Candidates by country") == {
        country: sum(1 for c in cands if (c["country"] or "unknown") == country)
        for country in {c["country"] or "unknown" for c in cands}}
    tagged = _chart_values(page, "Candidates tagged: helix")
    assert tagged["social economy"] == sum(1 for c in cands if "social_economy" in c["tags"].get("helix", []))
    totals = {dd.text_content().split(" (")[0]: int(dt.text_content())
              for dt, dd in zip(page.xpath("//dl[@id = 'totals']/dt"), page.xpath("//dl[@id = 'totals']/dd"))}
    assert totals["candidate sites"] == m
    assert totals["known cases"] == sum(1 for c in cands if c["known"])
    # at most one evidence passage per listed candidate
    assert all(len(r.xpath(".//div[@class = 'ev']")) <= 1 for r in rows)
    assert len(rows[0].xpath(".//div[@class = 'ev']")) == 1


def test_the_candidate_files_stay_complete(top5, sample):
    cands, manifest = sample
    with open(top5 / "candidates.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["site"] for r in rows] == [c["site"] for c in cands]
    assert _jsonl(top5 / "candidates.jsonl") == cands
    assert len(cands) == manifest["counts"]["candidates"]


def test_the_default_report_of_the_sample_lists_every_candidate(sample_scan, sample):
    cands, _ = sample
    page = lxml.html.fromstring((sample_scan / "report.html").read_bytes())
    assert len(page.xpath("//tr[contains(@class, 'cand')]")) == len(cands)  # fewer than the default top_n
    assert f"Showing all {len(cands)} candidates" in " ".join(page.xpath("//p[@id = 'shown-note']")[0]
                                                               .text_content().split())


def _synthetic(cands: list[dict], n: int) -> list[dict]:
    """``n`` candidates made of the sample's real ones (evidence shared, not copied), ranked by score."""
    rich = sorted(cands, key=lambda c: -sum(len(v) for labels in c["evidence"].values() for v in labels.values()))
    out = [{**rich[i % len(rich)], "site": f"site-{i}.example", "name": f"Candidate {i}",
            "score": round(1 - i / n, 6), "rank": i + 1} for i in range(n)]
    return out


def test_the_report_size_does_not_grow_with_the_number_of_candidates(sample):
    cands, manifest = sample
    cfg = ReportConfig(top_n=100, evidence_passages=3)
    small = len(render_report(_synthetic(cands, 200), manifest, cfg).encode())
    big_html = render_report(_synthetic(cands, 10_000), manifest, cfg)
    big = len(big_html.encode())
    assert big < 2_000_000, big
    assert abs(big - small) < 10_000, (small, big)  # only the digits of the counts differ
    page = lxml.html.fromstring(big_html)
    assert len(page.xpath("//tr[contains(@class, 'cand')]")) == 100
    assert sum(_histogram_counts(page)) == 10_000


def test_documents_parquet_equals_documents_jsonl_row_for_row(sample_scan):
    lines = _jsonl(sample_scan / "documents.jsonl")
    table = pq.read_table(sample_scan / "documents.parquet")
    assert table.column_names == SCHEMA.names and set(SCHEMA.names) == set(lines[0])
    rows = [_plain(table.schema, r) for r in table.to_pylist()]
    assert rows == lines
    types = {f.name: str(f.type) for f in table.schema}
    assert types["n_chars"] == "int64" and types["candidate_prob"] == "double" and types["embedded"] == "bool"
    lang_scores = table.schema.field("lang_scores").type
    assert isinstance(lang_scores, pa.MapType) and lang_scores.item_type == pa.float64()


def test_documents_parquet_is_written_in_row_groups(sample_scan, tmp_path):
    lines = _jsonl(sample_scan / "documents.jsonl")
    with open(tmp_path / "d.parquet", "wb") as fh:
        table = DocumentsParquet(fh, row_group=10)
        for line in lines:
            table.add(line)
        table.close()
    f = pq.ParquetFile(tmp_path / "d.parquet")
    assert f.metadata.num_row_groups == -(-len(lines) // 10)
    assert [_plain(f.schema_arrow, r) for r in f.read().to_pylist()] == lines


def _plain(schema, row: dict) -> dict:
    """A Parquet row as documents.jsonl has it: maps (lists of pairs) back to dicts."""
    def conv(typ, v):
        if v is None:
            return None
        if isinstance(typ, pa.MapType):
            return {k: conv(typ.item_type, x) for k, x in v}
        if isinstance(typ, pa.StructType):
            return {typ.field(i).name: conv(typ.field(i).type, v[typ.field(i).name]) for i in range(typ.num_fields)}
        return v

    return {f.name: conv(f.type, row[f.name]) for f in schema}
