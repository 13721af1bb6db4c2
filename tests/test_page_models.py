"""The shipped page models (candidate, subject, voice) on written and real pages, through the scanner's path.

Pages go through ``process`` (chrome removal, language, segmentation, cues) and
``Tagging`` with the real embedder, as in ``csei scan``.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.attach import role_of
from csei_nlp.pipeline.process import process
from csei_nlp.pipeline.tag import Tagging
from csei_nlp.types import RawInput

REPO = Path(__file__).resolve().parents[1]
WEBPAGES = REPO / "annotations" / "webpages"

MENU = ("Home\nAbout us\nMembers\nProjects\nNews\nContact\nEN | DE | FR | PL\n"
        "We use cookies to improve your experience on our website. By continuing to browse you agree "
        "to our use of cookies and our privacy policy.\nAccept all\n")


@pytest.fixture(scope="module")
def tagging():
    return Tagging.from_config(config.load())


def _tag(tagging, texts: list[tuple[str, str]]) -> list:
    cfg = tagging.cfg
    docs = [process(RawInput(source="t.jsonl", offset=i, media="text", data=t, url=u), cfg)
            for i, (u, t) in enumerate(texts, 1)]
    assert all(d.status == "ok" for d in docs), [d.detail for d in docs]
    tagging.tag(docs)
    return docs


def _webpages(genres: set[str], langs: tuple[str, ...]) -> list[dict]:
    out = []
    for lang in langs:
        for line in (WEBPAGES / f"{lang}.jsonl").read_text("utf-8").splitlines():
            rec = json.loads(line)
            if rec["genre"] in genres:
                out.append(rec)
    return out


HELD_OUT_LANGS = ("pl", "cs", "ro", "lt", "fr", "it", "de", "es")


@pytest.fixture(scope="module")
def held_out(tagging):
    """The test-split written web pages of a few languages (no model saw them), tagged."""
    from csei_nlp.train.data import load_dataset
    from csei_nlp.train.splits import assign_splits

    ds = load_dataset(REPO / "annotations", None)
    splits = assign_splits(ds.docs)
    pages = [d for d in ds.docs if d.origin == "webpage" and splits[d.group] == "test" and d.lang in HELD_OUT_LANGS]
    docs = _tag(tagging, [(d.meta["url"], d.meta["text"]) for d in pages])
    return pages, docs


def _auc(y: list[int], p: list[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def test_subject_model_tells_one_organisation_from_a_topic(held_out):
    pages, docs = held_out
    known = [(r.subject, d.meta["subject_prob"]) for r, d in zip(pages, docs) if r.subject is not None]
    assert len({y for y, _ in known}) == 2
    assert _auc([y for y, _ in known], [p for _, p in known]) >= 0.85


def test_voice_model_tells_third_party_pages_from_self_description(held_out):
    pages, docs = held_out
    org = [(r.voice, d.meta["third_party_prob"]) for r, d in zip(pages, docs) if r.subject == 1]
    assert len({y for y, _ in org}) == 2
    assert _auc([y for y, _ in org], [p for _, p in org]) >= 0.8


def test_candidate_prob_ranks_held_out_pages_about_one_cluster_first(held_out):
    pages, docs = held_out
    assert _auc([r.is_csei for r in pages], [d.meta["candidate_prob"] for d in docs]) >= 0.85
    third = [d.meta["candidate_prob"] for r, d in zip(pages, docs) if r.is_csei and r.voice == 1]
    assert third and sum(third) / len(third) > 0.3  # articles about one cluster are candidates too


def test_boilerplate_leaves_the_decision_unchanged(tagging):
    pages = _webpages({"csei_about_short", "federation", "agency", "csei_members"}, ("de", "lt", "hu"))
    clean = [(r["url"], r["text"]) for r in pages]
    noisy = [(u, MENU + t) for u, t in clean]
    a, b = _tag(tagging, clean), _tag(tagging, noisy)
    for x, y in zip(a, b):
        assert abs(x.meta["candidate_prob"] - y.meta["candidate_prob"]) < 0.05, x.url
        assert (x.meta["candidate_prob"] >= 0.5) == (y.meta["candidate_prob"] >= 0.5)
        # the subject decides where a page counts (attach.role_of): the role must not change
        assert role_of(x.meta) == role_of(y.meta), x.url
        assert abs(x.meta["subject_prob"] - y.meta["subject_prob"]) < 0.15


@pytest.mark.shared
def test_real_ordinary_pages_are_not_candidates(tagging, shared_dir):
    """Real news and blog pages as published (the Scrapinghub benchmark) get a low candidate_prob.

    Only pages that training cannot have used: training takes the first
    ``real_pages_limit`` of both benchmark folders in a seeded hash order, these
    come from the far end of that order.
    """
    import hashlib

    from csei_nlp.train.data import REAL_PAGES_SEED, page_text

    folder = shared_dir / "data" / "scrapinghub-aeb" / "html"
    files = sorted(folder.glob("*.html.gz"),
                   key=lambda p: hashlib.sha256(f"{REAL_PAGES_SEED}\x1f{p.name}".encode()).hexdigest())[-12:]
    texts = [("https://example.org/" + f.name, page_text(gzip.decompress(f.read_bytes()), None, tagging.cfg))
             for f in files]
    docs = _tag(tagging, [(u, t) for u, t in texts if len(t) > 200])
    probs = [d.meta.get("candidate_prob", 0.0) for d in docs]
    assert max(probs) < 0.5 and sum(probs) / len(probs) < 0.15
