"""Shared test fixtures.

Tests that need the project's shared data folder (``../shared`` beside the
clone, or ``$CSEI_SHARED``) use the ``shared_dir`` fixture, which skips with a
clear reason when it is absent: a user's clone has no ``../shared``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_root() -> Path | None:
    env = os.environ.get("CSEI_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


SHARED = _shared_root()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if SHARED is None:
        pytest.skip("needs the shared data folder (../shared or $CSEI_SHARED), absent in this clone")
    return SHARED


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture()
def cfg():
    from csei_nlp import config

    return config.load()


# --- one training run on the small fixture annotations, shared by every test that needs trained models ----

APP_TEXT = ("Spółdzielnia socjalna, gmina i szkoła zawodowa wspólnie prowadzą pralnię dla mieszkańców "
            "i zatrudniają osoby długotrwale bezrobotne.")
# The fixture annotations train without the real benchmark pages (fast; see [train] real_pages).
NO_REAL_PAGES = {"train": {"real_pages_limit": 0}}


@dataclass(frozen=True)
class FixtureTraining:
    annotations: Path  # a copy of tests/fixtures/train/annotations plus what the review app writes
    models: Path
    cache: Path  # the embedding cache every fixture-model test shares
    report: dict
    published: tuple  # the AddResult of each fixture set of pages as published (tests/fixtures/published)


@pytest.fixture(scope="session")
def fixture_training(tmp_path_factory) -> FixtureTraining:
    """Models trained once per test session (training embeds and cross-validates: the suite's costliest setup).

    The annotations include two small sets of pages as published (``csei pages add``), so the candidate
    model trains as the shipped one does, and an app label on a page nobody labelled as a whole and an analyst's decision,
    as the review app writes them: such a passage once crashed the split.
    """
    import json
    import shutil

    from csei_nlp import config
    from csei_nlp.annotate import log as annolog
    from csei_nlp.train import published, train_all

    models = tmp_path_factory.mktemp("models")
    cache = tmp_path_factory.getbasetemp() / "emb-cache"
    ann = tmp_path_factory.mktemp("annotations")
    shutil.copytree(FIXTURES / "train" / "annotations", ann, dirs_exist_ok=True)
    annolog.append(ann, {"id": "a1", "event": "label", "passage_id": "p1", "doc_id": "d1", "text": APP_TEXT,
                         "lang": "pl", "source": "crawl.warc.gz@12", "annotator": "ann", "split": None,
                         "labels": {"innovation": ["social"], "helix": ["social_economy", "public_authority"],
                                    "criteria": []},
                         "time": "2026-11-25T10:00:00+00:00", "model_version": "m1"})
    (ann / "documents-decisions.jsonl").write_text(json.dumps(
        {"id": "decision:x", "site": "klaster.pl", "lang": "pl", "text": APP_TEXT,
         "doc_label": {"is_csei": 1, "kind": "csei"}}) + "\n", "utf-8")
    cfg = config.load(overrides=NO_REAL_PAGES)
    added = tuple(published.add_pages(FIXTURES / "published" / f"set-{name}.jsonl", ann, cfg, name, cache_dir=cache)
                  for name in ("one", "two"))
    report = train_all(ann, models, cfg, cache_dir=cache, min_cee_test_langs=0, cross_lingual=True,
                       with_baseline=True)
    return FixtureTraining(ann, models, cache, report, added)


# --- one scan of the bundled sample corpus with the shipped models, shared by the tests that read its outputs ---


@pytest.fixture(scope="session")
def sample_scan(tmp_path_factory) -> Path:
    """The output folder of ``csei scan corpora/sample`` with the shipped defaults (as ``make sample``)."""
    from csei_nlp import config
    from csei_nlp.scan import run_scan

    out = tmp_path_factory.mktemp("sample-scan")
    run_scan([REPO / "corpora" / "sample"], out, config.load())
    return out
