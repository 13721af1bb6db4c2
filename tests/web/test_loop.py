"""The labelling loop closes: labels made in the app retrain the models, and the next scan uses them.

Two annotators label the same passages blind through HTTP, disagreeing on
one; an admin adjudicates it; an analyst decides a candidate.  `train_all`
then reads those labels from the annotations folder the app writes to (no
export, no hand edit), the model cards record the new data, `evaluate_all`
runs on the new models, and a scan with them reports their version.
"""
from __future__ import annotations

import json
import re
import shutil

from conftest import login, make_users

from csei_nlp import config
from csei_nlp.pipeline.classify import Tagger
from csei_nlp.scan import run_scan
from csei_nlp.train import evaluate_all, train_all
from csei_nlp.train.data import load_dataset

NO_REAL_PAGES = {"train": {"real_pages_limit": 0}}  # fast: see [train] real_pages


def _item(client) -> tuple[str, str]:
    page = client.get("/annotate").text
    pid = re.search(r'name="passage_id" value="([^"]+)"', page)
    assert pid, "no passage offered"
    return pid.group(1), page


def test_app_labels_retrain_the_models_and_the_next_scan_uses_them(scan_out, tmp_path, fixture_training,
                                                                 fixtures_dir):
    from csei_nlp.web.app import create_app

    ann = tmp_path / "annotations"
    shutil.copytree(fixtures_dir / "train" / "annotations", ann)
    cfg = config.load(overrides={**NO_REAL_PAGES, "annotate": {"overlap": 1.0}})
    app = create_app(scan_out, cfg, annotations_dir=ann, models_dir=fixture_training.models)
    make_users(app)
    try:
        nina, olek, root, alice = (app.test_client() for _ in range(4))
        tn, to, tr, ta = login(nina, "nina"), login(olek, "olek"), login(root, "root"), login(alice, "alice")
        labelled = []
        for i in range(4):
            pid, _ = _item(nina)
            assert _item(olek)[0] == pid  # overlap 1.0: both label the same passage, blind
            both = ["innovation:social", "helix:social_economy", "helix:public_authority"]
            extra = ["criteria:geographic_proximity"] if i == 0 else []  # they disagree on the first one
            nina.post("/annotate", data={"csrf_token": tn, "passage_id": pid, "action": "label",
                                         "label": both + extra})
            olek.post("/annotate", data={"csrf_token": to, "passage_id": pid, "action": "label", "label": both})
            labelled.append(pid)
        conflict = labelled[0]
        agreement = root.get("/agreement").text
        assert conflict in agreement
        r = root.post(f"/adjudicate/{conflict}", data={"csrf_token": tr, "note": "the shared place is explicit",
                                                       "label": ["innovation:social", "helix:social_economy",
                                                                 "criteria:geographic_proximity"]})
        assert r.status_code == 302
        alice.post("/candidate/klaster-borylipiny.pl/decision", data={"decision": "accept", "csrf_token": ta})
    finally:
        app.extensions["csei"].db.dispose()

    # nothing was exported by hand: the app's log and decisions file are in the annotations folder
    assert list((ann / "app").glob("passages-*.jsonl")) and (ann / "documents-decisions.jsonl").is_file()
    ds = load_dataset(ann, cfg)
    app_passages = [p for p in ds.passages if p.doc_id.startswith("app:")]
    assert len(app_passages) == 4
    adjudicated = [p for p in app_passages if "geographic_proximity" in p.labels.get("criteria", [])]
    assert len(adjudicated) == 1  # the admin's labels won the conflict

    models = tmp_path / "models"
    train_all(ann, models, cfg, cache_dir=fixture_training.cache, min_cee_test_langs=0,
              cross_lingual=False, with_baseline=False)
    card = json.loads((models / "helix.card.json").read_text("utf-8"))
    assert card["training_data_hash"] == ds.data_hash != fixture_training.report["data"]["hash"]
    assert "documents-decisions.jsonl" in card["data_files"]
    assert any(f.startswith("app/") for f in card["data_files"])
    again = evaluate_all(ann, models, cfg, cache_dir=fixture_training.cache, with_baseline=False)
    assert again["data"]["matches_models"] is True

    # the next scan loads the new models and says so in its manifest
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("pl-01a.html", "cs-02.html"):
        shutil.copy2(fixtures_dir / "train" / "annotations" / "pages" / name, corpus / name)
    out = tmp_path / "scan"
    run_scan([corpus], out, config.merge(cfg, {"classify": {"models_dir": str(models)},
                                               "embed": {"cache_dir": str(fixture_training.cache)}}))
    run = json.loads((out / "run.json").read_text("utf-8"))
    assert run["models"]["models"]["version"] == Tagger(models).version != Tagger(fixture_training.models).version
