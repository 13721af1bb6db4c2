"""A TF-IDF character n-gram + logistic regression baseline on the same splits.

It answers the question every evaluation must: does the embedding model beat
a cheap lexical model?  Character n-grams within word boundaries work across
languages and inflections without any language resource.  Same protocol as
the real models: C and per-label thresholds chosen on dev, scored on test.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .fit import choose_thresholds, macro_f1

C_GRID = (1.0, 10.0)


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                           max_features=100_000, dtype=np.float32)


def _fit_predict(Xtr: Any, y: np.ndarray, Xs: Sequence[Any], C: float) -> list[np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=int)
    if y.min() == y.max():
        return [np.full(X.shape[0], float(y[0])) for X in Xs]
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(Xtr, y)
    col = list(lr.classes_).index(1)
    return [lr.predict_proba(X)[:, col] for X in Xs]


def tfidf_multilabel(train: Sequence[str], Y_tr: np.ndarray, dev: Sequence[str], Y_dev: np.ndarray,
                     test: Sequence[str]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(test probabilities, dev thresholds, info) for a multi-label problem."""
    vec = _vectorizer().fit(train)
    Xtr, Xdev, Xte = vec.transform(train), vec.transform(dev), vec.transform(test)
    best = None
    for C in C_GRID:
        outs = [_fit_predict(Xtr, Y_tr[:, j], [Xdev, Xte], C) for j in range(Y_tr.shape[1])]
        P_dev = np.column_stack([o[0] for o in outs])
        P_te = np.column_stack([o[1] for o in outs])
        thr = choose_thresholds(Y_dev, P_dev)
        score = macro_f1(Y_dev, P_dev, thr)
        if best is None or score > best[0]:
            best = (score, C, P_te, thr, P_dev)
    assert best is not None
    return best[2], best[3], {"C": best[1], "dev_macro_f1": round(best[0], 4),
                              "n_features": len(vec.vocabulary_)}


def tfidf_binary(train: Sequence[str], y_tr: np.ndarray, dev: Sequence[str], y_dev: np.ndarray,
                 test: Sequence[str]) -> tuple[np.ndarray, float, dict[str, Any]]:
    P_te, thr, info = tfidf_multilabel(train, np.asarray(y_tr)[:, None], dev, np.asarray(y_dev)[:, None], test)
    return P_te[:, 0], float(thr[0]), info
