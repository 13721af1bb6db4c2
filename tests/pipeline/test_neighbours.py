"""The candidate model's neighbour features: similarity to the nearest labelled pages of each class."""
from __future__ import annotations

import numpy as np

from csei_nlp.pipeline.neighbours import fit_neighbours, neighbour_features, training_neighbour_features


def _rows(V: np.ndarray) -> np.ndarray:
    V = np.asarray(V, dtype=np.float32)
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    return np.hstack([np.full((len(V), 2), 7.0, np.float32), V])  # base columns come first, then the vector


def test_a_page_is_closer_to_the_kind_it_belongs_to():
    rng = np.random.default_rng(0)
    pos = np.eye(4)[0] + 0.2 * rng.normal(size=(20, 4))
    neg = np.eye(4)[2] + 0.2 * rng.normal(size=(20, 4))
    X, y = _rows(np.vstack([pos, neg])), np.r_[np.ones(20, int), np.zeros(20, int)]
    nbrs = fit_neighbours(X, y, first_column=2, k=3)
    F = neighbour_features(nbrs, _rows(np.array([[1.0, 0.1, 0, 0], [0, 0.1, 1.0, 0], [0, 0, 0, 1.0]])))
    assert F.shape == (3, 3)
    np.testing.assert_allclose(F[:, 2], F[:, 0] - F[:, 1], atol=1e-6)
    assert F[0, 2] > 0.5 and F[1, 2] < -0.5 and abs(F[2, 2]) < 0.2  # like a positive, a negative, neither


def test_a_training_page_is_not_its_own_neighbour():
    """Each training row's features leave the row itself out, as a new page would find them; an exact
    copy of a reference page scanned later does find itself."""
    X = _rows(np.array([[1.0, 0, 0], [0.8, 0.6, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 0.6, 0.8], [0, 0.8, 0.6]]))
    y = np.array([1, 1, 1, 0, 0, 0])
    nbrs = fit_neighbours(X, y, first_column=2, k=1)
    train = training_neighbour_features(nbrs, X, y)
    scan = neighbour_features(nbrs, X)
    np.testing.assert_allclose(scan[y == 1, 0], 1.0, atol=1e-5)      # a copy finds itself
    np.testing.assert_allclose(train[:, 0], [0.8, 0.8, 0.6, 0.0, 0.6, 0.8], atol=1e-5)
    np.testing.assert_allclose(train[:, 1], [0.0, 0.48, 0.8, 0.8, 0.96, 0.96], atol=1e-5)


def test_too_few_pages_of_a_class_give_no_reference():
    X, y = _rows(np.eye(6)), np.array([1, 1, 0, 0, 0, 0])
    assert fit_neighbours(X, y, first_column=2, k=2) is None
    assert fit_neighbours(X, y, first_column=2, k=1) is not None
