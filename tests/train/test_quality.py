"""Quality floors of the committed models on the held-out test split.

The floors sit a few points below the values in models/EVAL.md; a drop below
them means a regression in the data, features or training.  Vectors come
from the repository's embedding cache when present, else only the test split
is embedded (about a minute on a laptop CPU).
"""
from __future__ import annotations

import pytest

from csei_nlp import config
from csei_nlp.train import evaluate_all

# measured on the test split when the committed models were trained (models/EVAL.md)
# Splits keep near-translations (annotated scenario groups) together since the retraining for issue 3;
# the earlier, higher figures (0.794, 0.767, 0.826; AUC 0.969) had translations of test documents in training.
# C and thresholds chosen by grouped CV over train+dev and models refitted on train+dev (grouped-CV
# macro-F1 0.760, 0.774, 0.802); before that (C and thresholds on dev, fit on train): 0.743, 0.723, 0.757.
FAMILY_MACRO_F1_FLOOR = {"innovation": 0.72, "helix": 0.72, "criteria": 0.76}  # 0.759, 0.760, 0.806
CANDIDATE_AUC_FLOOR = 0.92  # 0.961
COMPOSITE_AUC_FLOOR = 0.93  # 0.981: rank.score over organisation profiles (issue 3 asks >= 0.90)
BASELINE_MARGIN = 0.05  # the models must beat the TF-IDF baseline by at least this much


@pytest.fixture(scope="module")
def report(repo_dir):
    return evaluate_all(repo_dir / "annotations", repo_dir / "models", config.load(), with_baseline=True)


@pytest.mark.slow
def test_family_models_meet_their_floors(report):
    assert len(report["data"]["test_cee_languages"]) >= 8
    for fam, floor in FAMILY_MACRO_F1_FLOOR.items():
        got = report["families"][fam]["test"]["macro_f1"]
        assert got >= floor, f"{fam}: test macro-F1 {got:.3f} below the floor {floor}"
        base = report["baseline"]["families"][fam]["test"]["macro_f1"]
        assert got >= base + BASELINE_MARGIN, f"{fam}: {got:.3f} does not beat TF-IDF ({base:.3f})"
        # CEE languages are evaluated separately and must not lag far behind
        assert report["families"][fam]["test"]["cee"]["macro_f1"] >= floor - 0.1


@pytest.mark.slow
def test_candidate_model_meets_its_floor(report):
    c = report["candidate"]["test"]
    assert c["n_pos"] >= 10 and c["n"] - c["n_pos"] >= 10
    assert c["roc_auc"] >= CANDIDATE_AUC_FLOOR, f"candidate ROC-AUC {c['roc_auc']} below {CANDIDATE_AUC_FLOOR}"
    assert c["cee"]["roc_auc"] >= CANDIDATE_AUC_FLOOR - 0.05
    # hard negatives: industrial clusters and academic pages score below real CSEIs on average
    kinds = c["mean_p_by_kind"]
    assert kinds["csei (positive)"] > kinds.get("industrial_cluster", 0) + 0.2
    assert kinds["csei (positive)"] > kinds.get("academic", 0) + 0.2


@pytest.mark.slow
def test_composite_candidate_score_meets_its_floor(report):
    """The issue's target: the candidate score analysts rank by separates CSEIs from hard negatives."""
    c = report["composite"]["test"]
    assert c["n_pos"] >= 10 and c["n"] - c["n_pos"] >= 10
    # report case passages are the references of known_similarity and never score themselves
    assert all(d.startswith("report-") for d in c["excluded_reference_docs"])
    assert c["roc_auc"] >= COMPOSITE_AUC_FLOOR, f"composite score ROC-AUC {c['roc_auc']} below {COMPOSITE_AUC_FLOOR}"
    assert c["cee"]["roc_auc"] >= COMPOSITE_AUC_FLOOR - 0.05
    kinds = c["mean_score_by_kind"]
    negatives = [v for k, v in kinds.items() if k != "csei (positive)"]
    assert kinds["csei (positive)"] > max(negatives) + 0.05
