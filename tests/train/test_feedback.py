"""The review app's output becomes training data (train split only) and train reports the change."""
from __future__ import annotations

import json

import pytest

from csei_nlp.annotate import log as annolog
from csei_nlp.train.feedback import app_passages, decision_docs, format_changes, metric_changes
from csei_nlp.train.records import AnnotationError

TEXT = ("Spółdzielnia socjalna, gmina i szkoła zawodowa wspólnie prowadzą pralnię dla mieszkańców "
        "i zatrudniają osoby długotrwale bezrobotne.")


def _label(tmp, rid, annotator, labels, passage="p1", event="label", **extra):
    rec = {"id": rid, "event": event, "passage_id": passage, "doc_id": "d1", "text": TEXT, "lang": "pl",
           "source": "crawl.warc.gz@12", "labels": labels, "annotator": annotator, "split": None,
           "time": "2026-11-25T10:00:00+00:00", "model_version": "m1", **extra}
    annolog.append(tmp, rec)


def test_app_annotations_become_train_passages(tmp_path):
    full = {"innovation": ["social"], "helix": ["social_economy", "public_authority"], "criteria": []}
    _label(tmp_path, "a1", "ann", full)
    _label(tmp_path, "b1", "bob", {"innovation": ["social"], "helix": ["social_economy"], "criteria": []})
    recs = app_passages(tmp_path)
    assert len(recs) == 1
    r = recs[0]
    assert r.split == "train" and r.lang == "pl" and r.text == TEXT
    # two annotators disagree on public_authority: only the agreed labels are kept
    assert r.labels["helix"] == ["social_economy"]
    assert r.kind == "unlabelled"


def test_retracted_labels_are_not_trained_on(tmp_path):
    _label(tmp_path, "a1", "ann", {"innovation": ["social"], "helix": [], "criteria": []})
    annolog.append(tmp_path, {"id": "u1", "event": "retract", "retracts": "a1", "passage_id": "p1",
                              "annotator": "ann"})
    assert app_passages(tmp_path) == []


def test_decisions_become_documents(tmp_path):
    rows = [{"id": "decision:x", "site": "klaster.pl", "lang": "pl", "text": TEXT,
             "doc_label": {"is_csei": 1, "kind": "csei"}},
            {"id": "decision:y", "site": "firma.pl", "lang": "pl", "text": "Producent śrub.",
             "doc_label": {"is_csei": 0, "kind": "analyst_reject"}}]
    (tmp_path / "documents-decisions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs = decision_docs(tmp_path)
    # sites in name order, as "Write training data" writes them
    assert [(d.is_csei, d.split_hint, d.group) for d in docs] == [(0, "train", "site:firma.pl"),
                                                                  (1, "train", "site:klaster.pl")]


def test_the_latest_decision_of_a_site_wins_in_an_appended_file(tmp_path):
    """App decisions are appended (one line per decision); per site the highest decision_id counts,
    whatever order the lines landed in, and an unsure (no documents) takes the site out."""
    def doc(i, site, is_csei, text=TEXT):
        return {"id": f"decision:{site}/{i}", "site": site, "lang": "pl", "text": text,
                "doc_label": {"is_csei": is_csei, "kind": "csei" if is_csei else "analyst_reject"}}

    def event(did, site, docs):
        return {"event": "decision", "decision_id": did, "site": site, "documents": docs}

    lines = [doc(0, "old.pl", 1),  # a compacted record without an id: older than any appended decision
             event(3, "b.pl", [doc(0, "b.pl", 0), doc(1, "b.pl", 0)]),
             event(2, "b.pl", [doc(0, "b.pl", 1)]),  # older, landed later: ignored
             event(4, "old.pl", []),  # unsure
             event(5, "a.pl", [doc(0, "a.pl", 1)]),
             event(5, "a.pl", [doc(0, "a.pl", 1)])]  # the same decision appended twice
    (tmp_path / "documents-decisions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    docs = decision_docs(tmp_path)
    assert [(d.doc_id, d.is_csei) for d in docs] == [("decision:a.pl/0", 1), ("decision:b.pl/0", 0),
                                                     ("decision:b.pl/1", 0)]
    (tmp_path / "documents-decisions.jsonl").write_text(json.dumps(event(1, "c.pl", [{"text": "x"}])) + "\n")
    with pytest.raises(AnnotationError, match="documents-decisions.jsonl:1"):
        decision_docs(tmp_path)


def test_metric_changes_per_label():
    before = {"helix": {"metrics": {"dev": {"macro_f1": 0.70, "labels": {"business": {"f1": 0.50}}}}}}
    after = {"helix": {"metrics": {"dev": {"macro_f1": 0.74,
                                           "labels": {"business": {"f1": 0.58}, "civil_society": {"f1": 0.6}}}}}}
    rows = {r["label"]: r for r in metric_changes(before, after)}
    assert rows["business"]["change"] == 0.08
    assert rows["civil_society"]["before"] is None and rows["civil_society"]["change"] is None
    assert rows["macro_f1"]["change"] == 0.04
    table = format_changes(list(rows.values()))
    assert "| helix | business | 0.500 | 0.580 | +0.080 |" in table


def test_load_dataset_includes_app_labels_and_decisions_in_train_only(tmp_path, repo_dir):
    import shutil

    from csei_nlp.train.data import load_dataset

    shutil.copytree(repo_dir / "annotations" / "passages", tmp_path / "passages")
    base = load_dataset(tmp_path, with_pages=False)
    _label(tmp_path, "a1", "ann", {"innovation": ["social"], "helix": ["social_economy"], "criteria": []})
    (tmp_path / "documents-decisions.jsonl").write_text(json.dumps(
        {"id": "decision:x", "site": "klaster.pl", "lang": "pl", "text": TEXT,
         "doc_label": {"is_csei": 1, "kind": "csei"}}) + "\n")
    ds = load_dataset(tmp_path, with_pages=False)
    assert len(ds.passages) == len(base.passages) + 1
    assert ds.data_hash != base.data_hash
    new_docs = [d for d in ds.docs if d.origin == "decision"]
    assert len(new_docs) == 1 and new_docs[0].split_hint == "train"
    # the app passage of an unlabelled page trains the family models, not the candidate model
    assert not any(d.doc_id == "app:d1" for d in ds.docs)
    assert "documents-decisions.jsonl" in ds.files and any(f.startswith("app/") for f in ds.files)


def test_load_cards_reads_committed_cards(repo_dir):
    from csei_nlp.train.feedback import load_cards

    cards = load_cards(repo_dir / "models")
    assert {"innovation", "helix", "criteria", "candidate"} <= set(cards)
    assert metric_changes(cards, cards)[0]["change"] == 0.0


def test_data_change_says_where_changes_come_from():
    from csei_nlp.train.feedback import data_change

    before = {"helix": {"training_data_hash": "a" * 64, "data_files": ["passages/x.jsonl"]}}
    assert "did not change" in data_change(before, before)
    after = {"helix": {"training_data_hash": "b" * 64, "data_files": ["passages/x.jsonl", "app/passages-1.jsonl"]}}
    text = data_change(before, after)
    assert "new files: app/passages-1.jsonl" in text and "deterministic" in text
    assert data_change({}, after) == "No earlier models to compare with."
