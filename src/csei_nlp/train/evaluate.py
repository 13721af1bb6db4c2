"""Train all models and evaluate them on the held-out test split.

``train_all`` is ``csei train``: load and validate the annotations, split by
document, embed (cached), fit the three family models and the candidate
model, save them with model cards, and evaluate (test split, per language,
CEE separately, cross-lingual, TF-IDF baseline side by side, and the composite
candidate score over organisation profiles, see ``composite``).  It writes
``models/EVAL.md``.  ``evaluate_all`` is ``csei eval``: it loads the saved
models and scores the current test split without retraining.

Numbers are what they are: with a few hundred passages, per-language figures
rest on a handful of examples each and the report prints their counts.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import ModelError
from ..pipeline.classify import (BASE_FEATURES, CANDIDATE, EMBEDDING_FEATURES, SUBJECT, VOICE, Tagger,
                                 default_models_dir, document_features,
                                 predict_proba_matrix)
from ..pipeline.embed.base import embedder_id as cfg_embedder_id
from ..pipeline.focus import focus_features
from ..taxonomy import FAMILIES
from ..pipeline.tag import Tagging
from . import baseline, published, release
from .composite import composite_metrics, roc_auc
from .data import Dataset, DocRecord, is_cee_lang, load_dataset
from .features import (cue_feature_names, doc_inputs, label_matrix, make_embedder, passage_features)
from .fit import fit_candidate, fit_candidate_published, save_model, select_family
from .splits import SEED as SPLIT_SEED
from .splits import assign_splits, cee_languages_in, doc_split, passage_split

log = logging.getLogger(__name__)

MIN_CEE_TEST_LANGS = 8
N_CROSS_LINGUAL = 4


# --- metrics ------------------------------------------------------------------

def _prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Binary precision, recall and F1 of the positive class (scikit-learn; 0 where undefined)."""
    from sklearn.metrics import precision_recall_fscore_support

    y, pred = np.asarray(y, dtype=int).ravel(), np.asarray(pred, dtype=int).ravel()
    p = r = f = 0.0
    if len(y):
        p, r, f, _ = precision_recall_fscore_support(y, pred, labels=[1], average="binary", pos_label=1,
                                                     zero_division=0)
    return {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
            "support": int(y.sum()), "predicted": int(pred.sum())}


def _micro_f1(Y: np.ndarray, pred: np.ndarray) -> float:
    """Micro-F1 over all (passage, label) decisions (scikit-learn)."""
    from sklearn.metrics import f1_score

    if not np.asarray(Y).size:
        return 0.0
    return round(float(f1_score(Y, pred, average="micro", zero_division=0)), 4)


def family_metrics(Y: np.ndarray, P: np.ndarray, thr: np.ndarray, labels: Sequence[str],
                   langs: Sequence[str] | None = None) -> dict[str, Any]:
    """Per-label P/R/F1, macro-F1 over labels with support, micro-F1, and per language."""
    pred = (P >= np.asarray(thr)[None, :]).astype(int)
    per = {lab: _prf(Y[:, j], pred[:, j]) for j, lab in enumerate(labels)}
    with_support = [m["f1"] for m in per.values() if m["support"] > 0]
    out: dict[str, Any] = {
        "n": int(len(Y)),
        "macro_f1": round(float(np.mean(with_support)), 4) if with_support else None,
        "micro_f1": _micro_f1(Y, pred),
        "labels": per,
    }
    if langs is not None:
        langs = np.asarray(langs)
        by_lang = {}
        for lang in sorted(set(langs)):
            m = langs == lang
            by_lang[lang] = {"n": int(m.sum()), "cee": is_cee_lang(lang),
                             "micro_f1": _micro_f1(Y[m], pred[m])}
        out["by_lang"] = by_lang
        for name, mask in (("cee", np.array([is_cee_lang(x) for x in langs], bool)),):
            if mask.any():
                sub = family_metrics(Y[mask], P[mask], thr, labels)
                out[name] = {"n": sub["n"], "macro_f1": sub["macro_f1"], "micro_f1": sub["micro_f1"]}
            if (~mask).any():
                sub = family_metrics(Y[~mask], P[~mask], thr, labels)
                out["non_cee"] = {"n": sub["n"], "macro_f1": sub["macro_f1"], "micro_f1": sub["micro_f1"]}
    return out


PAGE_TARGETS = {
    CANDIDATE: "1 when the page is about one specific CSEI, in its own words or a third party's",
    SUBJECT: "1 when the page presents one organisation, 0 when it is about a topic",
    VOICE: "1 when a third party wrote the page about the organisation, 0 for self-description",
}


def by_origin_auc(y: np.ndarray, p: np.ndarray, docs: Sequence[DocRecord]) -> dict[str, Any]:
    """ROC-AUC per data source (written passages, dev pages, written web pages, real pages, ...)."""
    out: dict[str, Any] = {}
    origins = np.array([d.origin for d in docs])
    for o in sorted(set(origins.tolist())):
        m = origins == o
        out[o] = {"n": int(m.sum()), "n_pos": int(np.asarray(y)[m].sum()), "roc_auc": roc_auc(np.asarray(y)[m], p[m])}
    return out


def candidate_metrics(y: np.ndarray, p: np.ndarray, thr: float, docs: Sequence[DocRecord]) -> dict[str, Any]:
    y = np.asarray(y, dtype=int)
    out: dict[str, Any] = {"n": int(len(y)), "n_pos": int(y.sum()), "roc_auc": roc_auc(y, p), "threshold": round(thr, 4),
                           **{k: v for k, v in _prf(y, (p >= thr).astype(int)).items() if k != "support"}}
    cee = np.array([is_cee_lang(d.lang) for d in docs], bool)
    pages = np.array([d.origin == "page" for d in docs], bool)
    for name, m in (("cee", cee), ("non_cee", ~cee), ("pages", pages), ("written", ~pages)):
        if m.any():
            out[name] = {"n": int(m.sum()), "n_pos": int(y[m].sum()), "roc_auc": roc_auc(y[m], p[m])}
    # hard negatives: mean P(is_csei) per kind of negative
    kinds: dict[str, list[float]] = defaultdict(list)
    for d, pi in zip(docs, p):
        kinds[d.kind if not d.is_csei else "csei (positive)"].append(float(pi))
    out["mean_p_by_kind"] = {k: round(float(np.mean(v)), 3) for k, v in sorted(kinds.items())}
    return out


def page_tag_metrics(docs: Sequence[DocRecord], probs: Sequence[dict[str, np.ndarray]],
                     thresholds: dict[str, np.ndarray]) -> dict[str, Any]:
    """Page-level tags (a label is on when any passage reaches its threshold) vs page targets."""
    out = {}
    idx = [i for i, d in enumerate(docs) if d.targets is not None and len(d.passages)]
    if not idx:
        return {}
    for fam, labels in FAMILIES.items():
        Y = np.array([[int(lab in docs[i].targets[fam]) for lab in labels] for i in idx])
        P = np.vstack([probs[i][fam].max(axis=0) for i in idx])
        m = family_metrics(Y, P, thresholds[fam], labels)
        out[fam] = {"n_pages": len(idx), "macro_f1": m["macro_f1"], "micro_f1": m["micro_f1"]}
    return out


def _published_voice(pub: "published.PublishedPages") -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of the pages as published about one CSEI whose genre says who wrote them, and that voice
    (1: a third party's article or profile, 0: the cluster's own page); None when there are none."""
    genres = np.array([r.get("genre") or "" for r in pub.rows])
    rows = np.flatnonzero(np.isin(genres, ("csei_self", "csei_third_party")))
    if len(rows) < 20 or len(set(genres[rows].tolist())) < 2:
        return None
    return rows, (genres[rows] == "csei_third_party").astype(int)


def published_metrics(pub: "published.PublishedPages", oof: np.ndarray, thr: float) -> dict[str, Any]:
    """Pages as published, scored out of fold (each set by a model that never saw it):
    ROC-AUC and P@10 per set and pooled, ROC-AUC per language, mean P per genre."""
    from .pages_eval import precision_at

    y, sets, langs = pub.y, pub.sets, np.array(pub.langs)
    out: dict[str, Any] = {"n": int(len(y)), "n_pos": int(y.sum()), "threshold": round(float(thr), 4),
                           "sets": {}, "by_lang": {}, "mean_p_by_genre": {}}
    for s in sorted(set(sets.tolist())):
        m = sets == s
        out["sets"][s] = {"n": int(m.sum()), "n_pos": int(y[m].sum()), "roc_auc": roc_auc(y[m], oof[m]),
                          "p_at_10": precision_at(y[m], oof[m])}
    aucs = [v["roc_auc"] for v in out["sets"].values() if v["roc_auc"] is not None]
    p10s = [v["p_at_10"] for v in out["sets"].values() if v["p_at_10"] is not None]
    out["mean_set_roc_auc"] = round(float(np.mean(aucs)), 4) if aucs else None
    out["mean_set_p_at_10"] = round(float(np.mean(p10s)), 4) if p10s else None
    out["pooled_roc_auc"] = roc_auc(y, oof)
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        out["by_lang"][lang] = {"n": int(m.sum()), "n_pos": int(y[m].sum()), "roc_auc": roc_auc(y[m], oof[m])}
    genres: dict[str, list[float]] = defaultdict(list)
    for r, p in zip(pub.rows, oof):
        genres[r.get("genre") or "-"].append(float(p))
    out["mean_p_by_genre"] = {g: round(float(np.mean(v)), 3) for g, v in sorted(genres.items())}
    return out


# --- training -----------------------------------------------------------------

def _doc_probs(model_by_fam: dict[str, dict[str, Any]], X: np.ndarray) -> dict[str, np.ndarray]:
    return {f: predict_proba_matrix(m, X) for f, m in model_by_fam.items()}


class _Steps:
    """Numbered progress lines on the ``csei_nlp.train`` logger (``csei train`` shows them on stderr)."""

    def __init__(self, total: int) -> None:
        self.total, self.n, self.t0 = total, 0, time.perf_counter()

    def __call__(self, msg: str, *args: Any) -> None:
        self.n += 1
        log.info("[%d/%d %5.0fs] " + msg, self.n, self.total, time.perf_counter() - self.t0, *args)


def _prepare(annotations_dir: str | Path, cfg: Config, min_cee: int) -> tuple[Dataset, dict[str, str]]:
    ds = load_dataset(annotations_dir, cfg)
    splits = assign_splits(ds.docs, min_cee_test_langs=min_cee)
    empty = [d.doc_id for d in ds.docs if not d.passages]
    if empty:
        log.warning("%d documents have no text and are left out: %s", len(empty), ", ".join(empty))
        ds.docs = [d for d in ds.docs if d.passages]
    return ds, splits


def write_training_seed(annotations_dir: str | Path, emb: Any, ds: Dataset) -> None:
    """Keep the vectors of the annotations' own texts beside them (``ANNOTATIONS/vectors``), so that a
    fresh clone trains and evaluates without embedding them again (:mod:`csei_nlp.pipeline.embed.seed`).

    Benchmark pages read from outside the project (``[train] real_pages``) are left out: only the
    project's own texts are shipped in any form.  The file is rewritten only when its texts changed.
    """
    from ..pipeline.embed.seed import SEED_FOLDER, SeedVectors, seed_path, write_seed

    texts = [p.text for p in ds.passages] + [t for d in ds.docs if d.origin != "real" for t in d.passages]
    items = emb.stored(list(dict.fromkeys(texts)))
    path = seed_path(Path(annotations_dir) / SEED_FOLDER, emb.id)
    old = SeedVectors(path, emb.id, emb.dim)
    if len(old) == len(items) and len(old.get(items)) == len(items):
        return
    n = write_seed(path, emb.id, items)
    log.info("    wrote the vectors of %d annotation texts to %s", n, path)


def train_all(annotations_dir: str | Path, models_dir: str | Path, cfg: Config,
              cache_dir: str | Path | None = None, min_cee_test_langs: int = MIN_CEE_TEST_LANGS,
              cross_lingual: bool = True, with_baseline: bool = True, write_eval: bool = True) -> dict[str, Any]:
    """Train, save and evaluate every model; returns the report (see ``format_report``).

    The models replaced are kept first (:mod:`.release`); if training fails
    part-way, they are put back, so a scan never meets half a model set.
    """
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    kept = release.snapshot(models_dir)
    try:
        report = _train_all(annotations_dir, models_dir, cfg, cache_dir, min_cee_test_langs, cross_lingual,
                            with_baseline, write_eval)
    except BaseException:
        if kept is not None:
            release.restore(models_dir, kept)
        raise
    report["previous_models"] = str(kept) if kept else None
    return report


def _train_all(annotations_dir: str | Path, models_dir: Path, cfg: Config, cache_dir: str | Path | None,
               min_cee_test_langs: int, cross_lingual: bool, with_baseline: bool,
               write_eval: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    step = _Steps(7 + cross_lingual + with_baseline)
    step("reading annotations in %s", annotations_dir)
    ds, splits = _prepare(annotations_dir, cfg, min_cee_test_langs)
    emb = make_embedder(cfg, cache_dir, annotations_dir)
    names = cue_feature_names()
    t_embed = time.perf_counter()
    step("embedding %d passages and %d documents (vectors not in the cache are computed: a few per second "
         "on a CPU)", len(ds.passages), len(ds.docs))
    pf = passage_features(emb, ds.passages, names)
    X = pf.X
    ps = passage_split(ds.passages, splits)
    tr, dv, te = (np.array(ps[s], dtype=int) for s in ("train", "dev", "test"))
    langs = np.array([p.lang for p in ds.passages])
    # calibration folds and out-of-fold features keep a document and its translations together
    groups = np.array([p.split_group for p in ds.passages])
    dsplit = doc_split(ds.docs, splits)
    pages = [d for d in ds.docs if d.origin == "page"]
    known = {p.text: (pf.vectors[i], pf.cues[i], pf.spans[i]) for i, p in enumerate(ds.passages)}
    di = doc_inputs(emb, ds.docs, names, known)
    t_embed = time.perf_counter() - t_embed
    log.info("    %d texts from the cache (%d of them from the shipped vectors), %d embedded", emb.hits,
             emb.seed_hits, emb.misses)
    write_training_seed(annotations_dir, emb, ds)

    embedder_card = {"id": emb.id, "dim": emb.dim, "max_tokens": emb.max_tokens}
    common = {"embedder": embedder_card, "cue_features": names, "training_data_hash": ds.data_hash,
              "data_files": ds.files, "split_seed": SPLIT_SEED}
    report: dict[str, Any] = {
        "data": {"hash": ds.data_hash, "files": ds.files, "n_passages": len(ds.passages), "n_docs": len(ds.docs),
                 "n_pages": len(pages), "passages_per_split": {s: len(v) for s, v in ps.items()},
                 "docs_per_split": {s: len(v) for s, v in dsplit.items()},
                 "test_cee_languages": sorted(cee_languages_in(ds.docs, splits, "test"))},
        "embedder": {**embedder_card, "n_chunked": emb.n_chunked, "cache_hits": emb.hits,
                     "cache_misses": emb.misses},
        "families": {}, "candidate": {}, "pages": {}, "baseline": {"families": {}}, "cross_lingual": {},
    }

    # --- family models ---
    models: dict[str, dict[str, Any]] = {}
    thresholds: dict[str, np.ndarray] = {}
    Cs: dict[str, float] = {}
    Ys = {f: label_matrix(ds.passages, f) for f in FAMILIES}
    # model selection and fitting see train+dev only; test is scored once, below
    trdv = np.concatenate([tr, dv])
    in_dev = np.isin(trdv, dv)
    oof: dict[str, np.ndarray] = {}
    for fam, labels in FAMILIES.items():
        step("family %s: choosing C by grouped cross-validation, then fitting", fam)
        Y = Ys[fam]
        model, thr, oof[fam], info = select_family(X[trdv], Y[trdv], labels, groups[trdv])
        models[fam], thresholds[fam], Cs[fam] = model, thr, info["C"]
        # dev figures from out-of-fold probabilities (the model itself was refitted on dev too)
        dev_m = family_metrics(Y[dv], oof[fam][in_dev], thr, labels, langs[dv])
        test_m = family_metrics(Y[te], predict_proba_matrix(model, X[te]), thr, labels, langs[te])
        report["families"][fam] = {"dev": dev_m, "test": test_m, **info,
                                   "thresholds": dict(zip(labels, np.round(thr, 4).tolist()))}
        save_model(models_dir, fam, model, {
            "kind": "family", "family": fam, "labels": list(labels), "thresholds": np.round(thr, 6).tolist(),
            "n_features": int(X.shape[1]), **common, "hyperparameters": {"C": info["C"], "calibration": "sigmoid"},
            "training": info, "metrics": {"dev": dev_m, "test": test_m},
        })

    # --- document features: out-of-fold family probabilities for train and dev documents ---
    step("document models: candidate, subject, voice")
    oof_by_text: dict[str, dict[str, np.ndarray]] = {}
    for k, i in enumerate(trdv):
        oof_by_text[ds.passages[i].text] = {f: oof[f][k] for f in FAMILIES}
    doc_probs: list[dict[str, np.ndarray]] = []
    for j, d in enumerate(ds.docs):
        full = _doc_probs(models, np.hstack([di.vectors[j], di.cues[j]]))
        if splits[d.group] in ("train", "dev") and d.origin == "passages":
            for f in FAMILIES:
                full[f] = np.vstack([oof_by_text[t][f] for t in d.passages])
        doc_probs.append(full)
    D = np.vstack([document_features(di.vectors[j], doc_probs[j], di.doc_cues[j], with_embedding=True,
                                     focus=focus_features(ds.docs[j].passages))
                   for j in range(len(ds.docs))])
    n_base = D.shape[1] - emb.dim  # subject and voice read the base features (classify.BASE_FEATURES)
    y_doc = np.array([d.is_csei for d in ds.docs])
    dtr, ddv, dte = (np.array(dsplit[s], dtype=int) for s in ("train", "dev", "test"))
    pub = published.load(annotations_dir, emb.id, names)
    if pub is not None:
        D_pub = np.vstack([document_features(v, _doc_probs(models, np.hstack([v, c])), dc, with_embedding=True,
                                             focus=fo)
                           for v, c, dc, fo in (pub.page(i) for i in range(len(pub)))])
        cand, cthr, cinfo = fit_candidate_published(D[dtr], y_doc[dtr], D_pub, pub.y, pub.sets,
                                                    boost_columns=n_base, neighbour_column=n_base)
        report["published"] = published_metrics(pub, cinfo.pop("oof"), cthr)
        report["published"]["digest"] = pub.digest
        page_features, subject_gate = EMBEDDING_FEATURES, False
        features_note = ("similarity to the nearest labelled positive and negative pages (pipeline/neighbours.py), "
                         "per family mean+max passage probabilities, document cue features, page focus features, "
                         "log1p(n passages), the page's mean passage vector (a gradient-boosted model of all "
                         "but the vector mixed in); trained on written pages and labelled pages as "
                         "published (annotations/published/)")
    else:
        log.warning("no pages as published in %s: the candidate model learns from written pages only, "
                    "and is gated by the subject model", published.folder(annotations_dir))
        cand, cthr, cinfo = fit_candidate(D[dtr, :n_base], y_doc[dtr], D[ddv, :n_base], y_doc[ddv])
        page_features, subject_gate = BASE_FEATURES, True
        features_note = ("per family mean+max passage probabilities, document cue features, page focus features, "
                         "log1p(n passages) (no raw embedding: trained on written pages only, it does not carry over to real pages)")
    Dc = D if page_features == EMBEDDING_FEATURES else D[:, :n_base]
    p_doc = predict_proba_matrix(cand, Dc)[:, 0]
    cdev = candidate_metrics(y_doc[ddv], p_doc[ddv], cthr, [ds.docs[i] for i in ddv])
    ctest = candidate_metrics(y_doc[dte], p_doc[dte], cthr, [ds.docs[i] for i in dte])
    report["candidate"] = {"dev": cdev, "test": ctest, **cinfo}
    save_model(models_dir, CANDIDATE, cand, {
        "kind": "candidate", "labels": ["is_csei"], "thresholds": [round(cthr, 6)], "n_features": int(Dc.shape[1]),
        "families": list(FAMILIES), **common, "hyperparameters": {"C": cinfo["C"], "calibration": "sigmoid"},
        "training": cinfo, "metrics": {"dev": cdev, "test": ctest, "published": report.get("published")},
        "target": PAGE_TARGETS[CANDIDATE], "page_features": page_features, "subject_gate": subject_gate,
        "features": features_note,
    })
    D = D[:, :n_base]
    report["page_models"] = {}
    for name, target in ((SUBJECT, "subject"), (VOICE, "voice")):
        y_t = np.array([-1 if getattr(d, target) is None else int(getattr(d, target)) for d in ds.docs])
        if target == "voice":  # only pages about one organisation have a voice
            y_t[np.array([d.subject != 1 for d in ds.docs])] = -1
        known_t = y_t >= 0
        tr_t, dv_t, te_t = (idx[known_t[idx]] for idx in (dtr, ddv, dte))
        voice_pub = _published_voice(pub) if (target == "voice" and pub is not None) else None
        if voice_pub is not None:
            # Written pages alone teach a voice that does not carry over: on the labelled pages as
            # published it told a newspaper's article from the cluster's own page at ROC-AUC 0.60.
            # Their own-page / third-party genres train it with the written pages (models/REAL_PAGES.md).
            rows, y_pub = voice_pub
            m_t, thr_t, info_t = fit_candidate_published(D[tr_t], y_t[tr_t], D_pub[rows, :n_base], y_pub,
                                                         pub.sets[rows])
            oof_v = info_t.pop("oof")
            info_t["published_voice"] = {"n": int(len(rows)), "n_third_party": int(y_pub.sum()),
                                         "oof_roc_auc": roc_auc(y_pub, oof_v)}
        else:
            m_t, thr_t, info_t = fit_candidate(D[tr_t], y_t[tr_t], D[dv_t], y_t[dv_t])
        p_t = predict_proba_matrix(m_t, D)[:, 0]
        dev_t = candidate_metrics(y_t[dv_t], p_t[dv_t], thr_t, [ds.docs[i] for i in dv_t])
        test_t = candidate_metrics(y_t[te_t], p_t[te_t], thr_t, [ds.docs[i] for i in te_t])
        report["page_models"][name] = {"dev": dev_t, "test": test_t, **info_t}
        save_model(models_dir, name, m_t, {
            "kind": "page", "labels": [name], "thresholds": [round(thr_t, 6)], "n_features": int(D.shape[1]),
            "families": list(FAMILIES), **common, "hyperparameters": {"C": info_t["C"], "calibration": "sigmoid"},
            "training": info_t, "metrics": {"dev": dev_t, "test": test_t},
            "target": PAGE_TARGETS[name], "page_features": BASE_FEATURES,
            "features": "per family mean+max passage probabilities, document cue features, page focus features, "
                        "log1p(n passages)",
        })
    report["candidate"]["by_origin"] = by_origin_auc(y_doc[dte], p_doc[dte], [ds.docs[i] for i in dte])
    report["pages"] = page_tag_metrics([ds.docs[i] for i in dte], [doc_probs[i] for i in dte], thresholds)
    step("composite score on the test split")
    tagging = Tagging(cfg, emb, Tagger(models_dir, embedder_id=emb.id))
    report["composite"] = {"test": composite_metrics([ds.docs[i] for i in dte], tagging, cfg.score.weights())}

    # --- baseline, cross-lingual ---
    if with_baseline:
        step("TF-IDF baseline")
        report["baseline"] = run_baseline(ds, splits)
    if cross_lingual:
        step("cross-lingual transfer")
        report["cross_lingual"] = run_cross_lingual(ds, X, Ys, langs, tr, dv, te, Cs, groups, models, thresholds)
    report["timings_s"] = {"embed": round(t_embed, 1), "total": round(time.perf_counter() - t0, 1)}
    report["models_dir"] = str(models_dir)
    if write_eval:
        (models_dir / "EVAL.md").write_text(format_report(report), "utf-8")
    return report


def run_baseline(ds: Dataset, splits: dict[str, str]) -> dict[str, Any]:
    ps = passage_split(ds.passages, splits)
    texts = [p.text for p in ds.passages]
    langs = np.array([p.lang for p in ds.passages])
    out: dict[str, Any] = {"families": {}}
    pick = lambda idx: [texts[i] for i in idx]  # noqa: E731
    for fam, labels in FAMILIES.items():
        Y = label_matrix(ds.passages, fam)
        P, thr, info = baseline.tfidf_multilabel(pick(ps["train"]), Y[ps["train"]], pick(ps["dev"]),
                                                 Y[ps["dev"]], pick(ps["test"]))
        out["families"][fam] = {"test": family_metrics(Y[ps["test"]], P, thr, labels, langs[ps["test"]]), **info}
    dsplit = doc_split(ds.docs, splits)
    dtext = [" ".join(d.passages) for d in ds.docs]
    y = np.array([d.is_csei for d in ds.docs])
    p, thr, info = baseline.tfidf_binary([dtext[i] for i in dsplit["train"]], y[dsplit["train"]],
                                         [dtext[i] for i in dsplit["dev"]], y[dsplit["dev"]],
                                         [dtext[i] for i in dsplit["test"]])
    out["candidate"] = {"test": candidate_metrics(y[dsplit["test"]], p, thr, [ds.docs[i] for i in dsplit["test"]]),
                        **info}
    return out


def run_cross_lingual(ds: Dataset, X: np.ndarray, Ys: dict[str, np.ndarray], langs: np.ndarray, tr: np.ndarray,
                      dv: np.ndarray, te: np.ndarray, Cs: dict[str, float], groups: np.ndarray,
                      models: dict[str, dict[str, Any]], thresholds: dict[str, np.ndarray]) -> dict[str, Any]:
    """Train without language L (train and dev), test on L; for the CEE languages with most test passages."""
    counts = defaultdict(int)
    for i in te:
        if is_cee_lang(langs[i]):
            counts[langs[i]] += 1
    chosen = sorted(counts, key=lambda lang: (-counts[lang], lang))[:N_CROSS_LINGUAL]
    out: dict[str, Any] = {}
    for lang in chosen:
        tr_l, dv_l = tr[langs[tr] != lang], dv[langs[dv] != lang]
        te_l = te[langs[te] == lang]
        all_l = np.where(langs == lang)[0]
        res: dict[str, Any] = {"n_test": int(len(te_l)), "n_all": int(len(all_l))}
        for fam, labels in FAMILIES.items():
            Y = Ys[fam]
            # the full models' protocol without L: train+dev, thresholds from grouped out-of-fold probabilities
            trdv_l = np.concatenate([tr_l, dv_l])
            m, thr, _, _ = select_family(X[trdv_l], Y[trdv_l], labels, groups[trdv_l], C_grid=(Cs[fam],))
            full = family_metrics(Y[te_l], predict_proba_matrix(models[fam], X[te_l]), thresholds[fam], labels)
            without = family_metrics(Y[te_l], predict_proba_matrix(m, X[te_l]), thr, labels)
            without_all = family_metrics(Y[all_l], predict_proba_matrix(m, X[all_l]), thr, labels)
            res[fam] = {"full_test_macro_f1": full["macro_f1"], "without_test_macro_f1": without["macro_f1"],
                        "without_all_macro_f1": without_all["macro_f1"]}
        out[lang] = res
    return out


# --- evaluation of saved models ---------------------------------------------------

def evaluate_all(annotations_dir: str | Path, models_dir: str | Path, cfg: Config,
                 cache_dir: str | Path | None = None, with_baseline: bool = True) -> dict[str, Any]:
    """Score the saved models on the current test split (only the test split is embedded)."""
    tagger = Tagger(models_dir, embedder_id=cfg_embedder_id(cfg))
    names = cue_feature_names()
    if names != tagger.cue_feature_names:
        raise ModelError(f"the cue features changed since the models in {tagger.models_dir} were trained; "
                         "retrain with `csei train`")
    ds, splits = _prepare(annotations_dir, cfg, 0)
    emb = make_embedder(cfg, cache_dir, annotations_dir)
    ps = passage_split(ds.passages, splits)
    te = np.array(ps["test"], dtype=int)
    test_passages = [ds.passages[i] for i in te]
    pf = passage_features(emb, test_passages, names)
    probs = tagger.predict_passages([p.text for p in test_passages], pf.vectors, pf.cues)
    langs = [p.lang for p in test_passages]
    card_hash = tagger.cards[CANDIDATE].get("training_data_hash")
    report: dict[str, Any] = {
        "data": {"hash": ds.data_hash, "matches_models": ds.data_hash == card_hash, "n_passages": len(ds.passages),
                 "passages_per_split": {s: len(v) for s, v in ps.items()},
                 "test_cee_languages": sorted(cee_languages_in(ds.docs, splits, "test"))},
        "embedder": {"id": emb.id, "dim": emb.dim, "cache_hits": emb.hits, "cache_misses": emb.misses},
        "models": tagger.describe(), "families": {}, "candidate": {}, "pages": {},
        "baseline": {"families": {}}, "cross_lingual": {},
    }
    for fam, labels in FAMILIES.items():
        Y = label_matrix(test_passages, fam)
        report["families"][fam] = {"test": family_metrics(Y, probs[fam], tagger.thresholds[fam], labels, langs)}
    dte = doc_split(ds.docs, splits)["test"]
    docs = [ds.docs[i] for i in dte]
    known = {p.text: (pf.vectors[k], pf.cues[k], pf.spans[k]) for k, p in enumerate(test_passages)}
    di = doc_inputs(emb, docs, names, known)
    dprobs = [tagger.predict_passages(None, di.vectors[j], di.cues[j]) for j in range(len(docs))]
    D = np.vstack([tagger.document_features(di.vectors[j], dprobs[j], di.doc_cues[j], docs[j].passages)
                   for j in range(len(docs))])
    p = tagger.predict_documents(D)
    y = np.array([d.is_csei for d in docs])
    report["candidate"] = {"test": candidate_metrics(y, p, tagger.candidate_threshold, docs)}
    report["pages"] = page_tag_metrics(docs, dprobs, tagger.thresholds)
    report["composite"] = {"test": composite_metrics(docs, Tagging(cfg, emb, tagger), cfg.score.weights())}
    report["embedder"].update(cache_hits=emb.hits, cache_misses=emb.misses)
    if with_baseline:
        report["baseline"] = run_baseline(ds, splits)
    return report


# --- report ---------------------------------------------------------------------

def _f(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def format_report(report: dict[str, Any]) -> str:
    """The report as markdown (``models/EVAL.md``)."""
    d = report["data"]
    lines = ["# csei-nlp model evaluation", ""]
    lines += [f"- training data hash: `{d['hash'][:16]}`" + (" (matches the models)" if d.get("matches_models")
                                                            else "" if "matches_models" not in d
                                                            else " (**differs from the models' training data**)"),
              f"- passages: {d['n_passages']}, per split {d['passages_per_split']}"]
    if "docs_per_split" in d:
        lines.append(f"- documents: {d['n_docs']} ({d['n_pages']} pages), per split {d['docs_per_split']}")
    lines.append(f"- CEE languages in test: {len(d['test_cee_languages'])} ({', '.join(d['test_cee_languages'])})")
    e = report["embedder"]
    lines += [f"- embedder: `{e['id']}` ({e['dim']}-d)", ""]
    lines += ["## Passage models (test split; C and thresholds chosen by grouped CV over train+dev)", "",
              "| family | macro-F1 | micro-F1 | CEE macro-F1 | non-CEE macro-F1 | TF-IDF baseline macro-F1 "
              "| TF-IDF baseline CEE macro-F1 | n | grouped-CV macro-F1 (train+dev) | C |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    base = report.get("baseline", {}).get("families", {})
    for fam, r in report["families"].items():
        t = r["test"]
        b = base.get(fam, {}).get("test", {})
        lines.append(f"| {fam} | {_f(t['macro_f1'])} | {_f(t['micro_f1'])} | {_f(t.get('cee', {}).get('macro_f1'))} "
                     f"| {_f(t.get('non_cee', {}).get('macro_f1'))} | {_f(b.get('macro_f1'))} "
                     f"| {_f(b.get('cee', {}).get('macro_f1'))} | {t['n']} "
                     f"| {_f(r.get('cv_macro_f1'))} | {_f(r.get('C'))} |")
    lines += ["", "### Per label (test)", "", "| family | label | P | R | F1 | support | threshold |",
              "|---|---|---|---|---|---|---|"]
    for fam, r in report["families"].items():
        thr = r.get("thresholds", {})
        for lab, m in r["test"]["labels"].items():
            lines.append(f"| {fam} | {lab} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} "
                         f"| {m['support']} | {_f(thr.get(lab))} |")
    langs = sorted({lang for r in report["families"].values() for lang in r["test"].get("by_lang", {})})
    if langs:
        lines += ["", "### Per language (test, micro-F1; CEE languages marked *)", "",
                  "| lang | n | " + " | ".join(report["families"]) + " |",
                  "|---|---|" + "---|" * len(report["families"])]
        for lang in langs:
            cells, n, cee = [], 0, False
            for r in report["families"].values():
                m = r["test"].get("by_lang", {}).get(lang)
                cells.append(_f(m["micro_f1"]) if m else "–")
                n, cee = (m["n"], m["cee"]) if m else (n, cee)
            lines.append(f"| {lang}{'*' if cee else ''} | {n} | " + " | ".join(cells) + " |")
    c = report["candidate"]["test"]
    bc = report.get("baseline", {}).get("candidate", {}).get("test", {})
    lines += ["", "## Document candidate model (test split)", "",
              "| model | ROC-AUC | F1 | P | R | n (pos) | CEE AUC | pages AUC | written AUC |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, m in (("embeddings + cues", c), ("TF-IDF baseline", bc)):
        if m:
            lines.append(f"| {name} | {_f(m['roc_auc'])} | {_f(m['f1'])} | {_f(m['precision'])} | {_f(m['recall'])} "
                         f"| {m['n']} ({m['n_pos']}) | {_f(m.get('cee', {}).get('roc_auc'))} "
                         f"| {_f(m.get('pages', {}).get('roc_auc'))} | {_f(m.get('written', {}).get('roc_auc'))} |")
    if c.get("mean_p_by_kind"):
        lines += ["", "Mean P(is_csei) by document kind (test): " +
                  ", ".join(f"{k} {v:.2f}" for k, v in c["mean_p_by_kind"].items())]
    origin_names = {"passages": "written passages", "page": "written dev pages", "webpage": "written web pages",
                    "real": "real ordinary pages", "decision": "analyst decisions"}
    if c.get("by_origin") or report["candidate"].get("by_origin"):
        lines += ["", "Candidate model ROC-AUC by data source (test): " + ", ".join(
            f"{origin_names.get(o, o)} {_f(m['roc_auc'])} (n {m['n']}, pos {m['n_pos']})"
            for o, m in report["candidate"]["by_origin"].items())]
    pub = report.get("published")
    if pub:
        lines += ["", "## Candidate model on pages as published (out of fold: each set scored by a model "
                      "trained without it)", "",
                  f"{pub['n']} labelled pages as published ({pub['n_pos']} about one specific CSEI), kept as "
                  "vectors and cue counts in annotations/published/ (no text). Mean over sets: ROC-AUC "
                  f"{_f(pub['mean_set_roc_auc'])}, P@10 {_f(pub['mean_set_p_at_10'])}; pooled ROC-AUC "
                  f"{_f(pub['pooled_roc_auc'])}.", "",
                  "| set | pages (pos) | ROC-AUC | P@10 |", "|---|---|---|---|"]
        for name, m in pub["sets"].items():
            lines.append(f"| {name} | {m['n']} ({m['n_pos']}) | {_f(m['roc_auc'])} | {_f(m['p_at_10'])} |")
        lines += ["", "Per language (both classes present): " + ", ".join(
            f"{lang} {_f(m['roc_auc'])} ({m['n']}, {m['n_pos']})" for lang, m in pub["by_lang"].items()
            if m["roc_auc"] is not None),
                  "", "Mean out-of-fold P per genre: " + ", ".join(
            f"{g} {v:.2f}" for g, v in pub["mean_p_by_genre"].items())]
    pm = report.get("page_models") or {}
    if pm:
        lines += ["", "## Page subject and voice models (test split)", "",
                  "`subject`: the page presents one organisation (1) or a topic (0); `voice`: a third party "
                  "wrote it (1) or the organisation itself (0), on pages about one organisation.", "",
                  "| model | ROC-AUC | F1 | P | R | n (pos) | threshold |", "|---|---|---|---|---|---|---|"]
        for name, m in pm.items():
            t = m["test"]
            lines.append(f"| {name} | {_f(t['roc_auc'])} | {_f(t['f1'])} | {_f(t['precision'])} | {_f(t['recall'])} "
                         f"| {t['n']} ({t['n_pos']}) | {_f(t['threshold'])} |")
    comp = report.get("composite", {}).get("test")
    if comp:
        lines += ["", "## Composite candidate score (test split, one profile per organisation)", "",
                  "The score analysts rank by (`csei_nlp.rank.score` over a site profile built with the scanner's "
                  "tagging), next to its classifier component alone (the document model, best document of the "
                  "organisation) on the same profiles.", "",
                  "| profiles (pos) | score ROC-AUC | classifier ROC-AUC | CEE profiles (pos) | CEE score AUC "
                  "| CEE classifier AUC | non-CEE score AUC |", "|---|---|---|---|---|---|---|"]
        ce, nc = comp.get("cee", {}), comp.get("non_cee", {})
        lines.append(f"| {comp['n']} ({comp['n_pos']}) | {_f(comp['roc_auc'])} "
                     f"| {_f(comp['classifier_roc_auc'])} | {ce.get('n', 0)} ({ce.get('n_pos', 0)}) "
                     f"| {_f(ce.get('roc_auc'))} | {_f(ce.get('classifier_roc_auc'))} | {_f(nc.get('roc_auc'))} |")
        lines += ["", "Mean score by document kind (test): " +
                  ", ".join(f"{k} {v:.2f}" for k, v in comp["mean_score_by_kind"].items()),
                  "", "ROC-AUC of each component alone: " +
                  ", ".join(f"{k} {_f(v)}" for k, v in comp["component_roc_auc"].items()),
                  "", f"{comp['n_documents']} test documents; left out as references of known_similarity "
                  f"(report case passages): {len(comp['excluded_reference_docs'])}; not embedded by the cascade: "
                  f"{comp['cascade_skipped']}."]
    if report.get("pages"):
        lines += ["", "## Page-level tags (test pages whose labels are targets; label on if any passage reaches "
                      "its threshold)", "", "| family | pages | macro-F1 | micro-F1 |", "|---|---|---|---|"]
        for fam, m in report["pages"].items():
            lines.append(f"| {fam} | {m['n_pages']} | {_f(m['macro_f1'])} | {_f(m['micro_f1'])} |")
    if report.get("cross_lingual"):
        lines += ["", "## Cross-lingual (family models trained without language L)", "",
                  "macro-F1 on L's test passages with the full model / without L; and without L on all of L's "
                  "passages.", "", "| L | n test | n all | family | full | without L | without L, all |",
                  "|---|---|---|---|---|---|---|"]
        for lang, r in report["cross_lingual"].items():
            for fam in FAMILIES:
                m = r[fam]
                lines.append(f"| {lang} | {r['n_test']} | {r['n_all']} | {fam} | {_f(m['full_test_macro_f1'])} "
                             f"| {_f(m['without_test_macro_f1'])} | {_f(m['without_all_macro_f1'])} |")
    lines += ["", "## Notes", "",
              "- Splits are by document (dev pages: by site; near-translations: by scenario group), stratified "
              "per language and is_csei; seed "
              f"`{SPLIT_SEED}`.",
              "- Macro-F1 averages the labels that have test support; per-language figures rest on few passages.",
              "- Candidate features of train and dev documents use out-of-fold passage probabilities.", ""]
    if "timings_s" in report:
        lines.append(f"Timings: {report['timings_s']}")
    real = Path(report.get("models_dir") or default_models_dir()) / REAL_PAGES_FILE
    if real.is_file():
        # Measured with `csei eval --pages` on real pages that cannot be committed (their text is
        # third parties'); the figures are kept beside the models and carried into every report.
        lines += ["", real.read_text("utf-8").strip(), ""]
    return "\n".join(lines) + "\n"


REAL_PAGES_FILE = "REAL_PAGES.md"
