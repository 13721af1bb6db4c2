"""`csei eval --pages`: a labelled file of pages as published is scanned and scored like a user's crawl."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import CseiError
from csei_nlp.train.pages_eval import evaluate_pages, format_pages_report, precision_at

REPO = Path(__file__).resolve().parents[2]


def test_precision_at_k():
    import numpy as np

    assert precision_at(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]), k=2) == 0.5


def test_bad_label_names_file_and_line(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"url": "https://a.pl/", "text": "x", "label": 1}) + "\n"
                 + json.dumps({"url": "https://b.pl/", "text": "y", "label": "yes"}) + "\n", "utf-8")
    with pytest.raises(CseiError, match=r"p\.jsonl:2"):
        evaluate_pages(f, config.load(), with_baseline=False)


def test_pages_are_scored_per_page_language_and_candidate(tmp_path):
    rows = []
    for lang in ("pl", "fr"):
        for line in (REPO / "annotations" / "webpages" / f"{lang}.jsonl").read_text("utf-8").splitlines():
            r = json.loads(line)
            if r["genre"] in ("csei_home", "csei_about_short", "academic", "ordinary"):
                rows.append({"url": r["url"], "text": r["text"], "label": r["is_csei"], "lang": lang,
                             "genre": r["genre"]})
    f = tmp_path / "pages.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    rep = evaluate_pages(f, config.load(), with_baseline=False)
    assert rep["n"] == 8 and rep["n_pos"] == 4
    assert set(rep["per_language"]) == {"pl", "fr"}
    assert rep["page"]["roc_auc"] is not None and rep["page"]["roc_auc"] >= 0.75
    assert rep["candidates"]["n_pos"] >= 3
    # every organisation of the set is ranked, those without a candidate at 0
    orgs = rep["organisations"]
    assert orgs["n"] >= rep["candidates"]["n"] and orgs["n_pos"] == rep["candidates"]["n_pos"] + \
        rep["candidates"]["positive_pages_without_candidate"]
    text = format_pages_report(rep)
    assert "| page (`candidate_prob`) |" in text and "| pl |" in text and "| every organisation" in text
