"""Annotation loading (schema errors name file and line) and document-level splits."""
from __future__ import annotations

import json
import shutil
from collections import defaultdict

import pytest

from csei_nlp import config
from csei_nlp.train.data import AnnotationError, is_cee_lang, load_dataset, load_pages, load_passages
from csei_nlp.train.splits import assign_splits, cee_languages_in, doc_split, passage_split

# The fixture annotations train without the real benchmark pages (fast; see [train] real_pages).
NO_REAL_PAGES = {"train": {"real_pages_limit": 0}}



def _rec(**kw):
    base = {"id": "x-1", "doc_id": "x", "text": "Spółdzielnie socjalne współpracują z gminą.", "lang": "pl",
            "source": "written:x", "labels": {"innovation": ["social"], "helix": [], "criteria": []},
            "doc_label": {"is_csei": 1, "kind": "csei"}, "annotator": "t", "split": None}
    base.update(kw)
    return base


def _write(dir_, rows, name="a.jsonl"):
    dir_.mkdir(parents=True, exist_ok=True)
    (dir_ / name).write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")


@pytest.mark.parametrize("row, message", [
    ("{not json", r"a\.jsonl:2: not valid JSON"),
    (_rec(id="x-2", labels={"innovation": ["socail"], "helix": [], "criteria": []}),
     r"a\.jsonl:2: unknown innovation label\(s\) \['socail'\]"),
    (_rec(id="x-2", text=""), r"a\.jsonl:2: missing or empty 'text'"),
    (_rec(id="x-1"), r"a\.jsonl:2: duplicate passage id 'x-1' \(first at .*a\.jsonl:1\)"),
    (_rec(id="x-2", doc_label={"is_csei": 0, "kind": "academic"}), r"a\.jsonl:2: doc 'x' has is_csei=0"),
    (_rec(id="x-2", split="validation"), r"a\.jsonl:2: 'split' must be null or one of"),
])
def test_schema_errors_name_file_and_line(tmp_path, row, message):
    _write(tmp_path, [_rec(), row])
    with pytest.raises(AnnotationError, match=message):
        load_passages(tmp_path)


def test_pages_keep_page_level_labels_at_page_level(repo_dir):
    pages = load_pages(repo_dir / "annotations" / "pages")
    assert len(pages) == 88
    assert len({p.lang for p in pages}) == 22
    by_id = {p.doc_id: p for p in pages}
    assert by_id["page:pl-01a"].targets["innovation"] == ["economic", "governance", "social"]
    assert by_id["page:pl-02"].targets is None  # an academic page: labels are mentions, not targets
    assert by_id["page:pl-01a"].group == by_id["page:pl-01b"].group == "site:klasterspoleczny.lomza.pl"
    assert all(p.passages == [] for p in pages)  # no text until extraction


def test_dataset_extracts_legacy_charset_pages(fixtures_dir, tmp_path):
    ann = tmp_path / "ann"
    shutil.copytree(fixtures_dir / "train" / "annotations", ann)
    ds = load_dataset(ann, config.load(overrides=NO_REAL_PAGES))
    pages = [d for d in ds.docs if d.origin == "page"]
    assert len(pages) == 5 and all(d.passages for d in pages)
    assert "Łomż" in " ".join(pages[0].passages)
    czech = next(d for d in pages if d.doc_id == "page:cs-02")  # served as windows-1250
    assert "výrobní družstvo" in " ".join(czech.passages)
    assert len(ds.data_hash) == 64
    # the hash covers page HTML too
    html = ann / "pages" / "pl-03.html"
    html.write_bytes(html.read_bytes() + b"\n<!-- edited -->")
    assert load_dataset(ann, None).data_hash != ds.data_hash


def test_splits_never_share_a_document(repo_dir):
    ds = load_dataset(repo_dir / "annotations", None)
    splits = assign_splits(ds.docs, min_cee_test_langs=8)
    assert assign_splits(ds.docs) == splits  # deterministic
    where = defaultdict(set)
    for i_split, idx in passage_split(ds.passages, splits).items():
        for i in idx:
            where[ds.passages[i].doc_id].add(i_split)
    assert all(len(s) == 1 for s in where.values())
    site_split = defaultdict(set)
    for d in ds.docs:
        site_split[d.group].add(splits[d.group])
    assert all(len(s) == 1 for s in site_split.values())
    # both pages of an organisation share a group, hence a split
    assert splits["site:klasterspoleczny.lomza.pl"] in ("train", "dev", "test")
    assert len(cee_languages_in(ds.docs, splits, "test")) >= 8
    n = {s: len(v) for s, v in doc_split(ds.docs, splits).items()}
    total = sum(n.values())
    assert 0.45 < n["train"] / total < 0.7 and n["dev"] / total > 0.12 and n["test"] / total > 0.12
    # positives and negatives reach the test split
    test_docs = [ds.docs[i] for i in doc_split(ds.docs, splits)["test"]]
    assert {d.is_csei for d in test_docs} == {0, 1}


def test_explicit_split_wins_and_cee_floor_is_enforced(tmp_path):
    rows = []
    for i in range(5):
        rows += [_rec(id=f"d{i}-1", doc_id=f"d{i}", lang="de", split="test" if i == 0 else None)]
    _write(tmp_path / "passages", rows)
    ds = load_dataset(tmp_path, None, with_pages=False)
    splits = assign_splits(ds.docs)
    assert splits["doc:d0"] == "test"
    assert not is_cee_lang("de") and is_cee_lang("sr") and is_cee_lang("et")
    with pytest.raises(AnnotationError, match="covers 0 CEE languages"):
        assign_splits(ds.docs, min_cee_test_langs=8)


def test_no_scenario_group_is_split_across_train_dev_test(repo_dir):
    ds = load_dataset(repo_dir / "annotations", None, with_pages=False)
    splits = assign_splits(ds.docs, min_cee_test_langs=8)
    by_group = defaultdict(set)
    langs = defaultdict(set)
    for p in ds.passages:
        if p.group:
            by_group[p.group].add(splits[p.split_group])
            langs[p.group].add(p.lang)
    assert len(by_group) >= 5 and any(len(v) >= 5 for v in langs.values())
    assert all(len(s) == 1 for s in by_group.values()), {g: s for g, s in by_group.items() if len(s) > 1}
    # passages follow their scenario: two translations of one scenario land together
    where = {}
    for s, idx in passage_split(ds.passages, splits).items():
        for i in idx:
            where[ds.passages[i].doc_id] = s
    assert where["bg-w02"] == where["uk-w02"] == splits["grp:tpl-energy-community"]
    assert where["cs-w04"] == where["sr-w05"] == splits["grp:tpl-national-federation"]
    assert len(cee_languages_in(ds.docs, splits, "test")) >= 8


def test_group_field_is_validated_and_spans_languages(tmp_path):
    rows = []
    langs = ["pl", "cs", "sk", "hu", "ro", "bg", "hr", "sl"]
    for k in range(6):  # six scenarios, each written in eight languages
        for lang in langs:
            rows.append(_rec(id=f"{lang}-s{k}-p1", doc_id=f"{lang}-s{k}", lang=lang, group=f"tpl-{k}",
                             doc_label={"is_csei": k % 2, "kind": "csei" if k % 2 else "academic"}))
    for lang in langs:  # and single-language documents
        for k in range(5):
            rows.append(_rec(id=f"{lang}-d{k}-p1", doc_id=f"{lang}-d{k}", lang=lang))
    _write(tmp_path / "passages", rows)
    ds = load_dataset(tmp_path, None, with_pages=False)
    assert {d.group for d in ds.docs if d.doc_id.startswith("pl-s")} == {f"grp:tpl-{k}" for k in range(6)}
    assert next(d for d in ds.docs if d.doc_id == "pl-d0").group == "doc:pl-d0"
    splits = assign_splits(ds.docs)
    for k in range(6):
        assert len({splits[d.group] for d in ds.docs if d.group == f"grp:tpl-{k}"}) == 1
    # multilingual scenarios are dealt out among themselves, not all filed under "bg" (the first language)
    assert len({splits[f"grp:tpl-{k}"] for k in range(6)}) == 3
    # a document whose passages disagree on the group is an annotation error
    _write(tmp_path / "bad", [_rec(group="tpl-a"), _rec(id="x-2", group="tpl-b")])
    with pytest.raises(AnnotationError, match=r"a\.jsonl:2: doc 'x' has group 'tpl-b' here but 'tpl-a'"):
        load_passages(tmp_path / "bad")
    _write(tmp_path / "bad2", [_rec(group="")])
    with pytest.raises(AnnotationError, match=r"a\.jsonl:1: 'group' must be"):
        load_passages(tmp_path / "bad2")
