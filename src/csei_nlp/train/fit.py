"""Fit the family models and the candidate model; save them with skops and a model card.

Each label is one binary problem: a class-balanced logistic regression on
standardised features, wrapped in sigmoid (Platt) calibration fitted on
held-out folds that never split a document, so the probabilities mean
something and can be averaged over passages.  A label with fewer than two
positive (or negative) training examples cannot be learned: it gets a
constant prior model and the card says so.

Family models are selected by grouped cross-validation over train+dev
(:func:`select_family`): folds never split a split group (document, site or
translation scenario), the regularisation strength is the one with the best
out-of-fold macro-F1, and each label's threshold is the F1-optimal cut on the
*pooled* out-of-fold probabilities of all ~450 passages rather than on the
~140 dev passages alone, where one or two examples move a cut a long way.
The final model is then refitted on train+dev.  The test split plays no part.

A saved model is a plain dict (format, labels, scaler, estimators) so that
skops can load it with a short explicit list of trusted types.
"""
from __future__ import annotations

import datetime as _dt
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil import atomic_open, atomic_write_text
from ..pipeline.classify import CARD_SUFFIX, FORMAT_VERSION, MODEL_SUFFIX, positive_proba, predict_proba_matrix
from ..pipeline.neighbours import FEATURES as NEIGHBOUR_FEATURES
from ..pipeline.neighbours import fit_neighbours, training_neighbour_features

C_GRID = (0.03, 0.1, 0.3, 1.0)
SEED = 0
CV_FOLDS = 5


def versions() -> dict[str, str]:
    import sklearn
    import skops

    from .. import __version__ as csei_version

    return {"sklearn": sklearn.__version__, "skops": skops.__version__, "numpy": np.__version__,
            "csei_nlp": str(csei_version)}


def _group_cv(y: np.ndarray, groups: np.ndarray | None, n_splits: int = 3) -> Any:
    """Folds for calibration: grouped by document when every fold can hold both classes."""
    minority = int(min(y.sum(), len(y) - y.sum()))
    k = max(2, min(n_splits, minority))
    if groups is not None and len(set(groups)) >= k:
        from sklearn.model_selection import StratifiedGroupKFold

        folds = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=SEED).split(y, y, groups))
        if all(len(set(y[tr])) == 2 and len(set(y[te])) >= 1 for tr, te in folds):
            return folds
    from sklearn.model_selection import StratifiedKFold

    # shuffled: rows arrive grouped by source (written pages, then pages as published), and an
    # unshuffled split would calibrate each fold on one source
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED).split(y, y))


def fit_binary(Z: np.ndarray, y: np.ndarray, C: float, groups: np.ndarray | None = None,
               sample_weight: np.ndarray | None = None) -> Any:
    """A calibrated classifier for one label (or a constant prior if it cannot be learned)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=int)
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        return DummyClassifier(strategy="prior").fit(Z, y, sample_weight=sample_weight)
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    cal = CalibratedClassifierCV(lr, method="sigmoid", cv=_group_cv(y, groups))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        return cal.fit(Z, y, sample_weight=sample_weight)


def fit_multilabel(X: np.ndarray, Y: np.ndarray, labels: Sequence[str], C: float,
                   groups: np.ndarray | None = None, sample_weight: np.ndarray | None = None) -> dict[str, Any]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X, sample_weight=sample_weight)
    Z = scaler.transform(X)
    ests = [fit_binary(Z, Y[:, j], C, groups, sample_weight) for j in range(Y.shape[1])]
    return {"format": FORMAT_VERSION, "labels": list(labels), "scaler": scaler, "estimators": ests}


def best_threshold(y: np.ndarray, p: np.ndarray, default: float = 0.5) -> float:
    """The probability cut that maximises F1 on (y, p); ``default`` without positives.

    Precision and recall at every distinct score come from scikit-learn's
    ``precision_recall_curve``; among cuts with the best F1 the highest wins.
    The cut is put halfway between the chosen score and the next lower one, so
    that it is not tuned to the last decimal of a single dev example.
    """
    from sklearn.metrics import precision_recall_curve

    y = np.asarray(y, dtype=int)
    if len(y) == 0 or y.sum() == 0:
        return default
    prec, rec, scores = precision_recall_curve(y, np.asarray(p, dtype=float), drop_intermediate=False)
    prec, rec = prec[:-1], rec[:-1]  # the last point (recall 0) has no threshold
    denom = prec + rec
    f1 = np.divide(2 * prec * rec, denom, out=np.zeros_like(denom), where=denom > 0)
    i = int(np.flatnonzero(np.isclose(f1, f1.max(), rtol=0, atol=1e-12))[-1])  # scores ascend: last = highest
    lower = scores[i - 1] if i > 0 else 0.0
    return float(np.clip((scores[i] + lower) / 2, 0.02, 0.98))


def choose_thresholds(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    return np.array([best_threshold(Y[:, j], P[:, j]) for j in range(Y.shape[1])])


def macro_f1(Y: np.ndarray, P: np.ndarray, thr: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    keep = Y.sum(axis=0) > 0
    if not keep.any():
        return 0.0
    pred = (P >= thr[None, :]).astype(int)
    return float(f1_score(Y[:, keep], pred[:, keep], average="macro", zero_division=0))


def fit_family(X_tr: np.ndarray, Y_tr: np.ndarray, X_dev: np.ndarray, Y_dev: np.ndarray,
               labels: Sequence[str], groups_tr: np.ndarray | None = None,
               C_grid: Sequence[float] = C_GRID) -> tuple[dict[str, Any], np.ndarray, dict[str, Any]]:
    """Pick C on dev (macro-F1 at dev-optimal thresholds); returns (model, thresholds, info)."""
    best: tuple[float, float, dict[str, Any], np.ndarray] | None = None
    scores = {}
    for C in C_grid:
        model = fit_multilabel(X_tr, Y_tr, labels, C, groups_tr)
        P = predict_proba_matrix(model, X_dev)
        thr = choose_thresholds(Y_dev, P)
        score = macro_f1(Y_dev, P, thr)
        scores[str(C)] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, C, model, thr)
    assert best is not None
    score, C, model, thr = best
    constant = [lab for lab, est in zip(labels, model["estimators"]) if type(est).__name__ == "DummyClassifier"]
    info = {"C": C, "dev_macro_f1_by_C": scores, "constant_labels": constant,
            "train_positives": {lab: int(Y_tr[:, j].sum()) for j, lab in enumerate(labels)},
            "n_train": int(len(X_tr)), "n_dev": int(len(X_dev))}
    return model, thr, info


def group_folds(groups: np.ndarray, n_splits: int = CV_FOLDS, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds that keep every group whole; groups are dealt in a seeded random order."""
    from sklearn.model_selection import GroupKFold

    uniq = sorted(set(groups.tolist()))
    k = min(n_splits, len(uniq))
    if k < 2:
        raise ValueError(f"grouped cross-validation needs at least 2 groups, got {len(uniq)}")
    rank = dict(zip(uniq, np.random.default_rng(seed).permutation(len(uniq)).tolist()))
    gid = np.array([rank[g] for g in groups.tolist()])
    return [(tr, te) for tr, te in GroupKFold(n_splits=k).split(np.zeros(len(gid)), None, gid)]


def crossfit_macro_f1(Y: np.ndarray, P: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """Macro-F1 of out-of-fold probabilities where each fold's thresholds come from the other folds.

    Choosing the cut on the very predictions it is scored on would flatter every
    configuration; cross-fitting keeps the comparison between configurations honest.
    """
    pred = np.zeros(Y.shape, dtype=int)
    for _, te in folds:
        rest = np.ones(len(Y), dtype=bool)
        rest[te] = False
        thr = choose_thresholds(Y[rest], P[rest])
        pred[te] = (P[te] >= thr[None, :]).astype(int)
    return macro_f1(Y, pred.astype(float), np.full(Y.shape[1], 0.5))


def select_family(X: np.ndarray, Y: np.ndarray, labels: Sequence[str], groups: np.ndarray,
                  C_grid: Sequence[float] = C_GRID,
                  n_splits: int = CV_FOLDS) -> tuple[dict[str, Any], np.ndarray, np.ndarray, dict[str, Any]]:
    """Grouped-CV model selection on train+dev; returns (model, thresholds, oof, info).

    ``X``/``Y``/``groups`` are the train+dev passages.  For each C the
    out-of-fold probabilities are scored by :func:`crossfit_macro_f1`; the best C
    is refitted on everything, its thresholds are cut on the pooled
    out-of-fold probabilities, and those probabilities (``oof``) are returned
    for features that must not see a passage's own label (candidate model).
    """
    folds = group_folds(groups, n_splits)
    best: tuple[float, float, np.ndarray] | None = None
    scores = {}
    for C in C_grid:
        P = np.zeros(Y.shape, dtype=np.float64)
        for tr, te in folds:
            P[te] = predict_proba_matrix(fit_multilabel(X[tr], Y[tr], labels, C, groups[tr]), X[te])
        score = crossfit_macro_f1(Y, P, folds)
        scores[str(C)] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, C, P)
    assert best is not None
    score, C, oof = best
    thr = choose_thresholds(Y, oof)
    model = fit_multilabel(X, Y, labels, C, groups)
    constant = [lab for lab, est in zip(labels, model["estimators"]) if type(est).__name__ == "DummyClassifier"]
    info = {"C": C, "selection": f"grouped {len(folds)}-fold CV over train+dev, thresholds from pooled "
                                 "out-of-fold probabilities, refitted on train+dev",
            "cv_macro_f1_by_C": scores, "cv_macro_f1": round(score, 4), "constant_labels": constant,
            "train_positives": {lab: int(Y[:, j].sum()) for j, lab in enumerate(labels)},
            "n_train": int(len(X)), "n_groups": int(len(set(groups.tolist())))}
    return model, thr, oof, info


def fit_candidate(X_tr: np.ndarray, y_tr: np.ndarray, X_dev: np.ndarray, y_dev: np.ndarray,
                  C_grid: Sequence[float] = C_GRID) -> tuple[dict[str, Any], float, dict[str, Any]]:
    """Pick C by dev ROC-AUC (log-loss on ties); returns (model, threshold, info)."""
    from sklearn.metrics import log_loss, roc_auc_score

    best = None
    scores = {}
    for C in C_grid:
        model = fit_multilabel(X_tr, y_tr[:, None], ["is_csei"], C)
        p = predict_proba_matrix(model, X_dev)[:, 0]
        if len(set(y_dev)) == 2:
            key = (roc_auc_score(y_dev, p), -log_loss(y_dev, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
        else:
            key = (0.0, 0.0)
        scores[str(C)] = round(key[0], 4)
        if best is None or key > best[0]:
            best = (key, C, model, p)
    assert best is not None
    _, C, model, p = best
    thr = best_threshold(y_dev, p)
    return model, thr, {"C": C, "dev_auc_by_C": scores, "n_train": int(len(X_tr)),
                        "train_positives": int(np.sum(y_tr)), "n_dev": int(len(X_dev))}


# A page written for training counts as much as a labelled page as published.  Measured out of fold
# (models/REAL_PAGES.md): weights 0.1 / 0.3 / 1.0 give real-page ROC-AUC 0.811 / 0.810 / 0.805 (noise)
# and held-out written ROC-AUC 0.922 / 0.953 / 0.967.
WRITTEN_WEIGHT = 1.0
# ~500 features on ~1,500 pages: stronger regularisation than the passage models' grid is worth trying
PUBLISHED_C_GRID = (0.01, 0.03, 0.1, 0.3)
# The candidate model mixes a gradient-boosted model of the base features (no embedding) into the
# linear one: it reads interactions (cue groups together, focus with cues) that a linear model cannot.
# Out of fold on the labelled pages as published (23 sets), weight 0.2 / 0.3 / 0.4 / 0.5 gave
# ROC-AUC 0.846 / 0.849 / 0.848 / 0.844 against 0.841 for the linear model alone (models/REAL_PAGES.md).
BOOST_WEIGHT = 0.3


def fit_boost(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
    """The candidate model's ``boost`` part: gradient-boosted trees on the log-loss, whose
    probabilities need no calibration step.  Measured against a class-balanced, sigmoid-calibrated
    one (out of fold, 23 sets): ROC-AUC 0.849 against 0.844 in the mix, in a twentieth of the time
    (class weights make the binning weighted, which is slow)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = np.asarray(y, dtype=int)
    if sample_weight is not None and np.all(sample_weight == sample_weight[0]):
        sample_weight = None  # equal weights change nothing, and weighted binning is slow
    hgb = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=SEED)
    return hgb.fit(X, y, sample_weight=sample_weight)


def published_folds(sets: np.ndarray, y: np.ndarray, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over pages as published: one set left out at a time when there are several sets
    (they were collected apart, so a fold never sees its own batch), else stratified 5-fold."""
    from sklearn.model_selection import StratifiedKFold

    names = sorted(set(sets.tolist()))
    if len(names) >= 2:
        return [(np.flatnonzero(sets != s), np.flatnonzero(sets == s)) for s in names]
    k = max(2, min(5, int(min(y.sum(), len(y) - y.sum()))))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(y, y))


def fit_candidate_published(X_w: np.ndarray, y_w: np.ndarray, X_p: np.ndarray, y_p: np.ndarray,
                            sets_p: np.ndarray, written_weight: float = WRITTEN_WEIGHT,
                            C_grid: Sequence[float] = PUBLISHED_C_GRID, boost_columns: int = 0,
                            boost_weight: float = BOOST_WEIGHT,
                            neighbour_column: int | None = None) -> tuple[dict[str, Any], float, dict[str, Any]]:
    """The candidate model on written pages (weight ``written_weight``) and pages as published (weight 1).

    C is chosen by the mean ROC-AUC over :func:`published_folds`, whose test
    pages are never in the fold's training data; the threshold is the F1-best
    cut on those out-of-fold probabilities, which ``info["oof"]`` returns for
    the report.  The model is then refitted on everything.  With
    ``neighbour_column`` (where the mean passage vector starts), the model
    first puts :mod:`csei_nlp.pipeline.neighbours` features in front of the
    page features, its training pages being the reference.  With
    ``boost_columns``, a gradient-boosted model of the first ``boost_columns``
    features (:func:`fit_boost`; the neighbour features and as many more) is
    mixed in with ``boost_weight``, in the folds as in the final model
    (:func:`csei_nlp.pipeline.classify.predict_proba_matrix`).
    """
    from sklearn.metrics import roc_auc_score

    folds = published_folds(sets_p, y_p)
    n_written = len(y_w)

    def prepare(idx: np.ndarray) -> dict[str, Any]:
        """Everything of a training split that does not depend on C."""
        X, y = np.vstack([X_w, X_p[idx]]), np.r_[y_w, y_p[idx]]
        sw = np.r_[np.full(n_written, written_weight), np.ones(len(idx))]
        nbrs = fit_neighbours(X, y, neighbour_column) if neighbour_column is not None else None
        if nbrs is not None:
            X = np.hstack([training_neighbour_features(nbrs, X, y), X])
        n_boost = boost_columns + (len(NEIGHBOUR_FEATURES) if nbrs is not None else 0)
        boost = fit_boost(X[:, :n_boost], y, sw) if boost_columns else None
        return {"X": X, "y": y, "sw": sw, "neighbours": nbrs, "boost": boost, "n_boost": n_boost}

    def fit(prep: dict[str, Any], C: float) -> dict[str, Any]:
        model = fit_multilabel(prep["X"], prep["y"][:, None], ["is_csei"], C, sample_weight=prep["sw"])
        if prep["neighbours"] is not None:
            model["neighbours"] = prep["neighbours"]
        if prep["boost"] is not None:
            model["boost"] = {"estimator": prep["boost"], "columns": int(prep["n_boost"]),
                              "weight": float(boost_weight)}
        return model

    prepared = [prepare(tr) for tr, _ in folds]
    best = None
    scores: dict[str, float] = {}
    for C in C_grid:
        oof = np.zeros(len(y_p))
        aucs = []
        for (tr, te), prep in zip(folds, prepared):
            oof[te] = predict_proba_matrix(fit(prep, C), X_p[te])[:, 0]
            if len(set(y_p[te].tolist())) == 2:
                aucs.append(roc_auc_score(y_p[te], oof[te]))
        score = float(np.mean(aucs)) if aucs else 0.0
        scores[str(C)] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, C, oof)
    assert best is not None
    score, C, oof = best
    final = prepare(np.arange(len(y_p)))
    model = fit(final, C)
    thr = best_threshold(y_p, oof)
    return model, thr, {"C": C, "published_cv_auc_by_C": scores, "published_cv_auc": round(score, 4),
                        "boost": ({"columns": int(final["n_boost"]), "weight": float(boost_weight),
                                   "model": "HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, "
                                            "max_leaf_nodes=15)"}
                                  if boost_columns else None),
                        "neighbours": ({"k": final["neighbours"]["k"], "features": list(NEIGHBOUR_FEATURES),
                                        "reference_pages": int(len(final["y"]))}
                                       if final["neighbours"] is not None else None),
                        "folds": "one set of pages as published left out" if len(set(sets_p.tolist())) >= 2
                        else "stratified 5-fold over pages as published",
                        "written_weight": written_weight, "n_train_written": int(len(y_w)),
                        "n_train_published": int(len(y_p)), "train_positives": int(np.sum(y_w) + np.sum(y_p)),
                        "oof": oof}


def oof_probs(X: np.ndarray, Y: np.ndarray, labels: Sequence[str], C: float, groups: np.ndarray,
              n_splits: int = 5) -> np.ndarray:
    """Out-of-fold probabilities by document groups (for candidate features of training docs)."""
    from sklearn.model_selection import GroupKFold

    P = np.zeros(Y.shape, dtype=np.float64)
    k = min(n_splits, len(set(groups)))
    if k < 2:
        return predict_proba_matrix(fit_multilabel(X, Y, labels, C, groups), X)
    for tr, te in GroupKFold(n_splits=k).split(X, Y, groups):
        model = fit_multilabel(X[tr], Y[tr], labels, C, groups[tr])
        P[te] = predict_proba_matrix(model, X[te])
    return P


def save_model(models_dir: Path, name: str, model: dict[str, Any], card: dict[str, Any]) -> None:
    """Write ``<name>.skops`` and ``<name>.card.json`` atomically (temp file + rename)."""
    import skops.io as sio

    models_dir.mkdir(parents=True, exist_ok=True)
    card = {"name": name, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions(), "format": FORMAT_VERSION, **card}
    path, card_path = models_dir / f"{name}{MODEL_SUFFIX}", models_dir / f"{name}{CARD_SUFFIX}"
    with atomic_open(path, "wb") as fh:
        sio.dump(model, fh)
    atomic_write_text(card_path, json.dumps(card, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


__all__ = ["best_threshold", "choose_thresholds", "crossfit_macro_f1", "fit_binary", "fit_candidate", "fit_family",
           "fit_boost", "fit_candidate_published", "fit_multilabel", "group_folds", "published_folds", "macro_f1", "oof_probs", "positive_proba", "save_model",
           "select_family", "versions"]
