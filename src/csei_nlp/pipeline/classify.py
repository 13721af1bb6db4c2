"""Passage and document classifiers: vectors + cue features -> label probabilities.

The trained models live in ``models/`` as skops files with a JSON model card
each (``<name>.skops`` + ``<name>.card.json``).  This module loads them, checks
that they fit the running configuration (same embedder id and dimension, same
cue feature list, same scikit-learn minor version) and applies them.  It never
trains; ``csei_nlp.train`` does.

* one model per family (innovation, helix, criteria): passage features
  ``[embedding, cue features]`` -> ``(n, n_labels)`` calibrated probabilities;
  a label is tagged when its probability reaches the threshold chosen on the
  dev split (card ``thresholds``);
* ``candidate``: document features (:func:`document_features`) -> P(the page is about
  one specific CSEI, in its own words or a third party's); a linear model of those
  features and of the page's similarity to the nearest labelled pages
  (:mod:`csei_nlp.pipeline.neighbours`), with gradient-boosted trees of the features
  before the embedding mixed in (:func:`predict_proba_matrix`);
* ``subject``: the same features -> P(the page presents one organisation) rather
  than a topic (news round-ups, policy, programmes, research, reports,
  directories);
* ``voice``: the same features -> P(a third party wrote it), for pages about one
  organisation.

skops files are loaded with an explicit list of trusted types; a file that
needs anything else is refused rather than executed.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import ModelError
from ..taxonomy import FAMILIES
from .focus import focus_features
from .neighbours import with_neighbours

CARD_SUFFIX = ".card.json"
MODEL_SUFFIX = ".skops"
CANDIDATE = "candidate"
SUBJECT = "subject"   # P(the page presents one organisation) vs a topic
VOICE = "voice"       # P(third party) for a page about one organisation
PAGE_MODELS = (CANDIDATE, SUBJECT, VOICE)
FORMAT_VERSION = 1
# A page model's card says which page features it reads ("page_features"):
BASE_FEATURES = "probs+cues"                        # document_features(..., with_embedding=False)
EMBEDDING_FEATURES = "probs+cues+mean_embedding"    # the same, then the page's mean passage vector

# Everything a csei model file may contain; skops refuses any other type.
TRUSTED_TYPES: list[str] = [
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.random.mtrand.RandomState",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.dummy.DummyClassifier",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.neighbors._unsupervised.NearestNeighbors",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
]


def default_models_dir() -> Path:
    """The project's ``models/`` folder (``$CSEI_HOME/models`` or the repository root's)."""
    from ..paths import models_dir

    return models_dir("")


def resolve_models_dir(configured: str | Path = "") -> Path:
    """``configured``, else the project's models/ folder, else ./models (an installed copy
    run from inside a clone of the repository)."""
    if configured:
        return Path(configured).expanduser()
    default = default_models_dir()
    if not default.is_dir() and (Path.cwd() / "models").is_dir():
        return Path.cwd() / "models"
    return default


def positive_proba(est: Any, X: np.ndarray) -> np.ndarray:
    """P(label) from a binary estimator, whatever order its classes are in."""
    classes = list(est.classes_)
    if 1 not in classes:
        return np.zeros(X.shape[0], dtype=np.float64)
    return est.predict_proba(X)[:, classes.index(1)]


def passage_matrix(vectors: np.ndarray, cue_feats: np.ndarray | None) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array (n, dim), got shape {v.shape}")
    if cue_feats is None:
        return v
    c = np.asarray(cue_feats, dtype=np.float32)
    if c.ndim == 1 and len(v) == 1:
        c = c[None, :]
    if c.shape[0] != v.shape[0]:
        raise ValueError(f"{v.shape[0]} vectors but {c.shape[0]} rows of cue features")
    return np.hstack([v, c])


def mean_embedding(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    """The L2-normalised mean of a page's passage vectors (zeros for a page without passages)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2 or len(v) == 0:
        return np.zeros(dim if dim is not None else (v.shape[-1] if v.ndim == 2 else 0), np.float32)
    m = v.mean(axis=0)
    n = float(np.linalg.norm(m))
    return (m / n if n > 0 else m).astype(np.float32)


def document_features(vectors: np.ndarray, passage_probs: dict[str, np.ndarray],
                      doc_cues: np.ndarray | None, families: Sequence[str] = tuple(FAMILIES),
                      with_embedding: bool = False, focus: np.ndarray | None = None) -> np.ndarray:
    """One document's feature vector for the page models (candidate, subject, voice).

    ``vectors`` (m, dim) and ``passage_probs[family]`` (m, n_labels) are per
    passage; ``doc_cues`` is ``cues.cue_features`` over all of the document's
    spans (log1p of summed counts); ``focus`` is :func:`csei_nlp.pipeline.focus.focus_features`
    of the same passages.  The vector is: per family the mean and the max of
    each label's probability, the cue features, the focus features and
    log1p(number of passages); with ``with_embedding``, then the page's
    :func:`mean_embedding`.
    A document without passages gets zeros.

    Which models read the embedding is measured, not assumed (models/EVAL.md).
    Trained on written pages only, a page model on the mean embedding learns
    their style: ROC-AUC 0.98 on held-out written pages but 0.48-0.58 on real
    ones.  Trained with labelled pages as published as well
    (``annotations/published/``), the candidate model gains from it on sets of
    real pages it never saw.  Subject and voice, which have no real-page
    labels, read the base features only.
    """
    parts: list[np.ndarray] = []
    for fam in families:
        p = np.asarray(passage_probs[fam], dtype=np.float32)
        if len(p):
            parts += [p.mean(axis=0), p.max(axis=0)]
        else:
            parts += [np.zeros(p.shape[1] if p.ndim == 2 else 0, np.float32)] * 2
    if doc_cues is not None:
        parts.append(np.asarray(doc_cues, dtype=np.float32).ravel())
    if focus is not None:
        parts.append(np.asarray(focus, dtype=np.float32).ravel())
    parts.append(np.array([np.log1p(len(vectors))], dtype=np.float32))
    if with_embedding:
        parts.append(mean_embedding(vectors))
    return np.concatenate(parts).astype(np.float32)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load_model(models_dir: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model object, card) for ``name``; ModelError when missing or unsafe."""
    import sklearn
    import skops.io as sio

    path, card_path = models_dir / f"{name}{MODEL_SUFFIX}", models_dir / f"{name}{CARD_SUFFIX}"
    if not path.is_file() or not card_path.is_file():
        raise ModelError(f"model '{name}' not found in {models_dir} (need {path.name} and "
                         f"{card_path.name}); run `csei train` to build the models")
    try:
        card = json.loads(card_path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path}: unreadable model card ({exc}); run `csei train`") from None
    trained = str(card.get("versions", {}).get("sklearn", "?"))
    if _minor(trained) != _minor(sklearn.__version__):
        raise ModelError(
            f"{path} was trained with scikit-learn {trained}, this is {sklearn.__version__}; "
            f"retrain with `csei train` or install scikit-learn=={trained}"
        )
    try:
        obj = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:  # skops raises UntrustedTypesFoundException, or a format error
        raise ModelError(f"cannot load {path}: {exc}; retrain with `csei train`") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT_VERSION:
        raise ModelError(f"{path} is not a csei model of format {FORMAT_VERSION}; retrain with `csei train`")
    return obj, card


class Tagger:
    """The trained family models and the candidate model, checked against the embedder.

    Attributes:
        labels: {family: [label ids]} in column order of the probability arrays.
        thresholds: {family: np.ndarray of per-label thresholds}.
        candidate_threshold: P(is_csei) cut chosen on the dev split.
        embedder_id, embedder_dim, cue_feature_names: what the models expect.
        version: a short hash of the model files.
    """

    def __init__(self, models_dir: str | Path = "", embedder_id: str | None = None,
                 embedder_dim: int | None = None, families: Sequence[str] = tuple(FAMILIES)) -> None:
        self.models_dir = resolve_models_dir(models_dir)
        if not self.models_dir.is_dir():
            raise ModelError(f"models folder {self.models_dir} does not exist; run `csei train` "
                             "or set [classify] models_dir")
        self._models: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        for name in [*families, *PAGE_MODELS]:
            self._models[name], self.cards[name] = load_model(self.models_dir, name)
        self.families = list(families)
        first = self.cards[self.families[0]]
        self.embedder_id = str(first["embedder"]["id"])
        self.embedder_dim = int(first["embedder"]["dim"])
        self.cue_feature_names = list(first.get("cue_features", []))
        for name, card in self.cards.items():
            if card["embedder"]["id"] != self.embedder_id or card.get("cue_features", []) != self.cue_feature_names:
                raise ModelError(f"{self.models_dir}: model '{name}' was trained with other features than "
                                 f"'{self.families[0]}'; retrain all models with `csei train`")
        if embedder_id is not None and embedder_id != self.embedder_id:
            raise ModelError(
                f"the models in {self.models_dir} were trained on vectors from {self.embedder_id!r}, "
                f"but the configured embedder is {embedder_id!r}; retrain with `csei train` or set "
                f"[embed] backend/model to match {self.embedder_id!r}"
            )
        if embedder_dim is not None and embedder_dim != self.embedder_dim:
            raise ModelError(
                f"the models in {self.models_dir} expect {self.embedder_dim}-d vectors, the embedder gives "
                f"{embedder_dim}-d; retrain with `csei train` or set [embed] model to {self.embedder_id!r}"
            )
        self.labels = {f: list(self.cards[f]["labels"]) for f in self.families}
        self.thresholds = {f: np.asarray(self.cards[f]["thresholds"], dtype=np.float64) for f in self.families}
        self.candidate_threshold = float(self.cards[CANDIDATE]["thresholds"][0])
        h = hashlib.sha256()
        for name in sorted(self._models):
            for suffix in (MODEL_SUFFIX, CARD_SUFFIX):
                h.update((self.models_dir / f"{name}{suffix}").read_bytes())
        self.version = h.hexdigest()[:12]

    @classmethod
    def from_config(cls, cfg: Config) -> "Tagger":
        """Load from ``[classify] models_dir`` and check against ``[embed]`` (no model is loaded)."""
        from .embed.base import embedder_id

        return cls(cfg.classify.models_dir, embedder_id=embedder_id(cfg))

    def _check_width(self, X: np.ndarray, expected: int, what: str) -> None:
        if X.shape[1] != expected:
            raise ModelError(f"{what}: got {X.shape[1]} features, the models expect {expected} "
                             f"({self.embedder_id}, {len(self.cue_feature_names)} cue features); "
                             "retrain with `csei train`")

    def predict_passages(self, texts: Sequence[str] | None, vectors: np.ndarray,
                         cue_feats: np.ndarray | None) -> dict[str, np.ndarray]:
        """{family: (n, n_labels) probabilities}; ``texts`` is only checked for length."""
        cues = cue_feats if self.cue_feature_names else None
        X = passage_matrix(vectors, cues)
        if texts is not None and len(texts) != X.shape[0]:
            raise ValueError(f"{len(texts)} texts but {X.shape[0]} vectors")
        self._check_width(X, self.embedder_dim + len(self.cue_feature_names), "passages")
        return {f: predict_proba_matrix(self._models[f], X) for f in self.families}

    def tags(self, probs: dict[str, np.ndarray]) -> dict[str, list[list[str]]]:
        """Per family, per row: the labels whose probability reaches their threshold."""
        out: dict[str, list[list[str]]] = {}
        for fam, p in probs.items():
            on = np.asarray(p) >= self.thresholds[fam][None, :]
            out[fam] = [[lab for lab, yes in zip(self.labels[fam], row) if yes] for row in on]
        return out

    def document_features(self, vectors: np.ndarray, passage_probs: dict[str, np.ndarray],
                          doc_cues: np.ndarray | None, texts: Sequence[str]) -> np.ndarray:
        """The full page feature row (base features, then the mean embedding) of a page whose
        embedded passages are ``texts``; each page model reads the columns its card names
        (:meth:`predict_documents`)."""
        return document_features(vectors, passage_probs, doc_cues if self.cue_feature_names else None,
                                 self.families, with_embedding=True, focus=focus_features(texts))

    def predict_documents(self, doc_features: np.ndarray, model: str = CANDIDATE) -> np.ndarray:
        """P per document from one of the page models (``PAGE_MODELS``), shape (n,).

        ``doc_features`` are rows of :meth:`document_features`; a model trained on
        the base features (card ``page_features``) reads them without the embedding.
        """
        X = np.atleast_2d(np.asarray(doc_features, dtype=np.float32))
        if self.cards[model].get("page_features", BASE_FEATURES) == BASE_FEATURES:
            X = X[:, : X.shape[1] - self.embedder_dim]
        self._check_width(X, int(self.cards[model]["n_features"]), "documents")
        return predict_proba_matrix(self._models[model], X)[:, 0]

    def predict_pages(self, doc_features: np.ndarray) -> dict[str, np.ndarray]:
        """{model: P per document} for every page model."""
        return {m: self.predict_documents(doc_features, m) for m in PAGE_MODELS}

    def describe(self) -> dict[str, Any]:
        return {"models_dir": str(self.models_dir), "version": self.version,
                "embedder": self.embedder_id, "dim": self.embedder_dim,
                "created": self.cards[CANDIDATE].get("created")}


def predict_proba_matrix(model: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """(n, n_labels) probabilities from a persisted model dict (scaler + one estimator per label).

    A model with ``neighbours`` (the candidate model, :func:`csei_nlp.train.fit.fit_candidate_published`)
    first puts :func:`csei_nlp.pipeline.neighbours.neighbour_features` in front of ``X``.  A model
    with a ``boost`` part mixes in a gradient-boosted classifier that reads the first
    ``boost["columns"]`` of those features: P = (1 - w) * P_linear + w * P_boost, with w = ``boost["weight"]``.
    """
    if X.shape[0] == 0:
        return np.zeros((0, len(model["estimators"])), dtype=np.float64)
    from threadpoolctl import threadpool_limits

    # One OpenMP thread for the neighbour search and the trees: both are cheap, and a scan worker forked
    # from a process whose OpenMP pool had started (a test run, the web app, a discover job) hangs in its
    # first parallel region.
    on_openmp = model.get("neighbours") is not None or model.get("boost") is not None
    with threadpool_limits(limits=1, user_api="openmp") if on_openmp else nullcontext():
        X = with_neighbours(model, X)
        Z = model["scaler"].transform(X) if model.get("scaler") is not None else X
        cols = [positive_proba(est, Z) for est in model["estimators"]]
        if not cols:
            return np.zeros((len(X), 0))
        P = np.column_stack(cols)
        boost = model.get("boost")
        if boost is not None:
            w = float(boost["weight"])
            Pb = positive_proba(boost["estimator"], X[:, : int(boost["columns"])])
            P = (1.0 - w) * P + w * Pb[:, None]
    return np.clip(P, 0.0, 1.0)
