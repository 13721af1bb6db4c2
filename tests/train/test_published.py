"""Labelled pages as published are kept as numbers only, and train the candidate model.

``csei pages add`` runs each page through the scanner's own stages and keeps
passage vectors and cue counts, never the text; training leaves one set out at
a time to score the candidate model on pages it never saw.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from csei_nlp.train import published
from csei_nlp.train.fit import fit_candidate_published, published_folds

PUB = Path(__file__).resolve().parents[1] / "fixtures" / "published"


@pytest.fixture(scope="module")
def added(fixture_training):
    """The fixture training's annotations hold both fixture sets (tests/conftest.py)."""
    return (fixture_training.annotations, *fixture_training.published)


def test_pages_are_kept_as_vectors_and_cue_counts_without_text(added):
    ann, one, two = added
    pub = published.read(ann)
    assert pub is not None and len(pub) == one.added + two.added == 11
    assert sorted(set(pub.sets.tolist())) == ["one", "two"]
    assert pub.y.sum() == 4 and pub.vectors.shape[1] == 384
    assert len(pub.vectors) == int(pub.offsets[-1]) == sum(r["n_passages"] for r in pub.rows)
    assert np.allclose(np.linalg.norm(pub.vectors, axis=1), 1.0, atol=0.01)  # e5 vectors, stored as float16
    # what a scan would detect, not what the file claimed
    assert {r["url"]: r["lang"] for r in pub.rows}["https://www.nasregion.example.cz/zpravy/klastr-socialnich-podniku-tabor"] == "cs"
    stored = b"".join(p.read_bytes() for p in published.folder(ann).iterdir())
    for line in (PUB / "set-one.jsonl").read_text("utf-8").splitlines():
        text = json.loads(line)["text"]
        for sentence in (s.strip() for s in text.split(".") if len(s.strip()) > 30):
            assert sentence.encode() not in stored, f"page text kept: {sentence[:40]}"


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_is_kept(added):
    _, one, two = added
    # the shop page has no cue a scan would embed it for: a scan scores it 0, so it trains nothing
    assert one.skipped == [f"{PUB / 'set-one.jsonl'}:5: fewer than 1 cue hits (no actor, legal-form or "
                           "cooperation terms)"]
    assert len(two.skipped) == 2
    assert two.skipped[0].startswith(f"{PUB / 'set-two.jsonl'}:7: not valid JSON")
    assert two.skipped[1].startswith(f"{PUB / 'set-two.jsonl'}:8: needs 'url', 'label'")


def test_adding_a_page_again_replaces_it(added, tmp_path, cfg, fixture_training):
    """(On a copy: the shared fixture annotations stay as they are.)"""
    ann, _, _ = added
    copy = tmp_path / "ann"
    shutil.copytree(ann, copy)
    before = published.read(copy)
    first = (PUB / "set-one.jsonl").read_text("utf-8").splitlines()[0]
    rec = json.loads(first) | {"label": 0}
    src = tmp_path / "again.jsonl"
    src.write_text(json.dumps(rec, ensure_ascii=False) + "\n", "utf-8")
    res = published.add_pages(src, copy, cfg, "three", cache_dir=fixture_training.cache)
    after = published.read(copy)
    assert (res.added, res.replaced) == (0, 1) and len(after) == len(before)
    row = [r for r in after.rows if r["url"] == rec["url"]]
    assert len(row) == 1 and row[0]["set"] == "three" and row[0]["label"] == 0
    # a changed label is changed training data: the hash in the model cards says so
    from csei_nlp.train.data import load_dataset
    from csei_nlp.train.records import published_digest

    assert published_digest(copy) == after.digest != before.digest == published_digest(ann)
    assert load_dataset(copy).data_hash != load_dataset(ann).data_hash


def test_a_store_made_with_another_embedder_is_left_out(added, caplog):
    ann, _, _ = added
    assert published.load(ann, "some-other-embedder", published.read(ann).cue_features) is None
    assert "left out" in caplog.text


def test_mismatched_files_are_an_error_naming_the_folder(added, tmp_path):
    ann, _, _ = added
    copy = tmp_path / "ann"
    shutil.copytree(ann, copy)
    pages = published.folder(copy) / published.PAGES_FILE
    pages.write_text("".join(pages.read_text("utf-8").splitlines(keepends=True)[:-1]), "utf-8")
    with pytest.raises(published.AnnotationError, match="do not describe the same pages"):
        published.read(copy)


def test_folds_leave_one_set_out():
    sets = np.array(["a", "a", "b", "b", "c", "c"])
    folds = published_folds(sets, np.array([0, 1, 0, 1, 0, 1]))
    assert [sorted(set(sets[te].tolist())) for _, te in folds] == [["a"], ["b"], ["c"]]
    for tr, te in folds:
        assert not set(sets[tr].tolist()) & set(sets[te].tolist())


def test_pages_as_published_outweigh_written_ones():
    """Written pages teach one rule, pages as published the opposite: the published pages win."""
    rng = np.random.default_rng(0)
    Xw = rng.normal(size=(200, 3))
    yw = (Xw[:, 0] > 0).astype(int)
    Xp = rng.normal(size=(60, 3))
    yp = (Xp[:, 0] < 0).astype(int)
    sets = np.repeat(["a", "b", "c"], 20)
    model, thr, info = fit_candidate_published(Xw, yw, Xp, yp, sets, written_weight=0.05)
    assert info["published_cv_auc"] > 0.8 and len(info["oof"]) == 60
    from csei_nlp.pipeline.classify import predict_proba_matrix

    p = predict_proba_matrix(model, np.array([[-2.0, 0, 0], [2.0, 0, 0]]))[:, 0]
    assert p[0] > p[1]


def test_training_scores_each_set_out_of_fold_and_the_scan_reads_the_embedding(fixture_training):
    from csei_nlp.pipeline.classify import CANDIDATE, EMBEDDING_FEATURES, SUBJECT, Tagger

    rep = fixture_training.report["published"]
    assert rep["n"] == 11 and sorted(rep["sets"]) == ["one", "two"]
    assert all(m["roc_auc"] is not None for m in rep["sets"].values())
    assert fixture_training.report["candidate"]["n_train_published"] == 11
    tagger = Tagger(fixture_training.models)
    card = tagger.cards[CANDIDATE]
    assert card["page_features"] == EMBEDDING_FEATURES and card["subject_gate"] is False
    assert card["n_features"] == tagger.cards[SUBJECT]["n_features"] + tagger.embedder_dim
    assert card["metrics"]["published"]["sets"]["one"]["n"] == 5


def test_the_voice_model_learns_from_own_pages_and_third_party_articles_as_published(repo_dir):
    from types import SimpleNamespace

    from csei_nlp.train.evaluate import _published_voice

    rows = [{"genre": "csei_self"}] * 12 + [{"genre": "csei_third_party"}] * 10 + [{"genre": "federation"}] * 5
    idx, y = _published_voice(SimpleNamespace(rows=rows + [{"genre": ""}]))
    assert list(idx) == list(range(22)) and int(y.sum()) == 10 and list(y[:12]) == [0] * 12
    assert _published_voice(SimpleNamespace(rows=rows[:15])) is None  # too few to learn a voice from
    # the shipped voice model was trained on the shipped pages as published, and says how it did on them
    card = json.loads((repo_dir / "models" / "voice.card.json").read_text("utf-8"))
    pv = card["training"]["published_voice"]
    assert pv["n"] >= 400 and 0 < pv["n_third_party"] < pv["n"] and pv["oof_roc_auc"] >= 0.65


def test_each_page_keeps_its_focus_features_and_an_older_store_is_left_out(added, tmp_path, caplog):
    from csei_nlp.pipeline.focus import FOCUS_FEATURES

    ann, _, _ = added
    pub = published.read(ann)
    assert pub.focus_features == FOCUS_FEATURES and pub.focus.shape == (len(pub), len(FOCUS_FEATURES))
    words = pub.focus[:, FOCUS_FEATURES.index("focus_words")]
    assert (words > np.log1p(20)).all()  # every stored page has text behind its numbers
    # a store written before the focus features: read, but left out of training with a reason
    copy = tmp_path / "ann"
    shutil.copytree(ann, copy)
    feats = published.folder(copy) / published.FEATURES_FILE
    with np.load(feats) as z:
        old = {k: z[k] for k in z.files if k not in ("focus", "focus_features")}
    np.savez_compressed(feats, **old)
    assert published.read(copy).focus_features == []
    assert published.load(copy, pub.embedder, pub.cue_features) is None
    assert "focus features" in caplog.text


def test_the_boosted_part_learns_what_the_linear_model_cannot_and_survives_saving(tmp_path):
    """y depends on x0 * x1 (no linear signal): the mixed-in gradient-boosted model finds it."""
    from csei_nlp.pipeline.classify import load_model, predict_proba_matrix, positive_proba
    from csei_nlp.train.fit import save_model

    rng = np.random.default_rng(1)
    Xw, Xp = rng.normal(size=(100, 3)), rng.normal(size=(300, 3))
    yw, yp = (Xw[:, 0] * Xw[:, 1] > 0).astype(int), (Xp[:, 0] * Xp[:, 1] > 0).astype(int)
    sets = np.repeat(["a", "b", "c"], 100)
    _, _, linear = fit_candidate_published(Xw, yw, Xp, yp, sets)
    model, _, mixed = fit_candidate_published(Xw, yw, Xp, yp, sets, boost_columns=2, boost_weight=0.5)
    assert linear["boost"] is None and mixed["boost"]["columns"] == 2
    assert linear["published_cv_auc"] < 0.65 < 0.8 < mixed["published_cv_auc"]
    X = rng.normal(size=(5, 3))
    lin = np.column_stack([positive_proba(e, model["scaler"].transform(X)) for e in model["estimators"]])
    np.testing.assert_allclose(predict_proba_matrix(model, X),
                               0.5 * lin + 0.5 * positive_proba(model["boost"]["estimator"], X[:, :2])[:, None])
    save_model(tmp_path, "candidate", model, {"kind": "candidate"})
    loaded, _ = load_model(tmp_path, "candidate")  # skops, with the trusted types only
    np.testing.assert_allclose(predict_proba_matrix(loaded, X), predict_proba_matrix(model, X))


def test_neighbour_features_find_kinds_of_clusters_a_linear_boundary_misses_and_survive_saving(tmp_path):
    """Positives are two opposite kinds (near +e0 or -e0), negatives two others (near +e1 or -e1): no
    linear boundary through the vectors separates them, their nearest labelled pages do."""
    from csei_nlp.pipeline.classify import load_model, predict_proba_matrix
    from csei_nlp.train.fit import save_model

    rng = np.random.default_rng(2)

    def pages(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        side = np.sign(rng.normal(size=(n, 1)))
        centre = side * np.where(y[:, None] == 1, np.eye(8)[0], np.eye(8)[1])
        V = centre + 0.35 * rng.normal(size=(n, 8))
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        return np.hstack([rng.normal(size=(n, 2)), V]), y  # two uninformative base columns, then the vector

    (Xw, yw), (Xp, yp) = pages(60), pages(300)
    sets = np.repeat(["a", "b", "c"], 100)
    _, _, plain = fit_candidate_published(Xw, yw, Xp, yp, sets, boost_columns=2)
    model, _, near = fit_candidate_published(Xw, yw, Xp, yp, sets, boost_columns=2, neighbour_column=2)
    assert plain["neighbours"] is None and near["neighbours"]["reference_pages"] == 360
    assert near["boost"]["columns"] == 2 + 3  # the boosted part reads the neighbour features too
    assert plain["published_cv_auc"] < 0.75 < 0.9 < near["published_cv_auc"]
    X, y = pages(40)
    save_model(tmp_path, "candidate", model, {"kind": "candidate"})
    loaded, _ = load_model(tmp_path, "candidate")  # skops, with the trusted types only
    np.testing.assert_allclose(predict_proba_matrix(loaded, X), predict_proba_matrix(model, X))
    p = predict_proba_matrix(loaded, X)[:, 0]
    assert p[y == 1].min() > p[y == 0].max() - 0.5 and p[y == 1].mean() > p[y == 0].mean() + 0.4
