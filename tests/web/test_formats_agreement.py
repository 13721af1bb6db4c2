"""Agreement statistics against known values; Label Studio / Prodigy round trips; stopping hint."""
from __future__ import annotations

import json

import pytest

from csei_nlp.annotate import agreement, formats, progress


def test_cohen_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    a = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1]
    b = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1]
    assert agreement.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    # hand-computed: po = 9/12, pe = (7*6 + 5*6)/144 = 0.5, kappa = (0.75 - 0.5) / 0.5
    assert agreement.cohen_kappa(a, b) == pytest.approx(0.5)
    assert agreement.cohen_kappa([1], [1]) is None


@pytest.mark.parametrize("a,b", [([0, 0, 0], [0, 0, 0]), ([1, 1, 1, 1], [1, 1, 1, 1])])
def test_cohen_kappa_undefined_is_none_not_one(a, b):
    # a label nobody (or everybody) used: no chance agreement to correct for
    assert agreement.cohen_kappa(a, b) is None
    assert agreement.krippendorff_alpha_nominal(list(zip(a, b))) is None


def test_report_pairwise_kappa_for_every_pair_and_alpha():
    # three annotators; every pair shares passages
    lab = lambda on: {"innovation": ["social"] if on else []}  # noqa: E731
    live = {
        "p1": {"ann": lab(1), "bob": lab(1), "cat": lab(1)},
        "p2": {"ann": lab(0), "bob": lab(0), "cat": lab(1)},
        "p3": {"ann": lab(1), "bob": lab(0), "cat": lab(1)},
        "p4": {"ann": lab(0), "bob": lab(0)},
        "p5": {"bob": lab(1), "cat": lab(1)},
        "p6": {"ann": lab(0), "cat": lab(0)},
    }
    from sklearn.metrics import cohen_kappa_score
    import krippendorff
    import numpy as np

    rep = agreement.report(live)
    m = rep["labels"]["innovation:social"]
    assert set(m["pairs"]) == {"ann|bob", "ann|cat", "bob|cat"}
    want = {}
    for x, y in (("ann", "bob"), ("ann", "cat"), ("bob", "cat")):
        shared = [by for by in live.values() if x in by and y in by]
        va = [int("social" in by[x]["innovation"]) for by in shared]
        vb = [int("social" in by[y]["innovation"]) for by in shared]
        want[f"{x}|{y}"] = cohen_kappa_score(va, vb)
        assert m["pairs"][f"{x}|{y}"] == {"n": len(shared), "kappa": round(want[f"{x}|{y}"], 3)}
    assert m["kappa"] == round(float(np.mean(list(want.values()))), 3)
    data = [[int("social" in by[a]["innovation"]) if a in by else np.nan for by in live.values()]
            for a in ("ann", "bob", "cat")]
    assert m["alpha"] == round(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), 3)
    assert m["n"] == 6 and m["positives"] == 8 and m["agreement"] == round(4 / 6, 3)
    # a label nobody used: undefined, not perfect
    nobody = rep["labels"]["innovation:ecological"]
    assert nobody["kappa"] is None and nobody["alpha"] is None and nobody["agreement"] == 1.0
    assert all(p["kappa"] is None for p in nobody["pairs"].values())


def test_krippendorff_alpha_reference_example():
    # Krippendorff's (2011) reliability-data example: 4 coders, 12 units, missing values;
    # the published nominal alpha is 0.743.
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = list(zip(*coders))
    assert agreement.krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=0.001)


def _records():
    return [
        {"id": "app-e1", "passage_id": "d1:0", "doc_id": "d1", "text": "Spółdzielnie socjalne i gmina „Zielony Dół”.",
         "lang": "pl", "source": "store:a/b.html", "url": "https://x.pl/a", "annotator": "nina",
         "time": "2025-01-02T10:00:00.123456+00:00", "model_version": "m1", "doc_label": None,
         "labels": {"innovation": ["social"], "helix": ["social_economy", "public_authority"], "criteria": []}},
        {"id": "app-e2", "passage_id": "d1:0", "doc_id": "d1", "text": "Spółdzielnie socjalne i gmina „Zielony Dół”.",
         "lang": "pl", "source": "store:a/b.html", "url": "https://x.pl/a", "annotator": "olek",
         "time": "2025-01-02T10:05:00.000001+00:00", "model_version": "m1", "doc_label": {"is_csei": 1, "kind": "csei"},
         "labels": {"innovation": [], "helix": ["social_economy"], "criteria": ["cooperating_group"]}},
        {"id": "app-e3", "passage_id": "d2:4", "doc_id": "d2", "text": "Ein Netzwerk im Landkreis.", "lang": "de",
         "source": "store:c.warc.gz@1200", "url": None, "annotator": "nina", "time": "2025-01-03T08:00:00+00:00",
         "model_version": "m2", "doc_label": None,
         "labels": {"innovation": ["ecological", "governance"], "helix": [], "criteria": ["geographic_proximity"]}},
    ]


@pytest.mark.parametrize("fmt", ["labelstudio", "prodigy"])
def test_round_trip_loses_nothing(tmp_path, fmt):
    recs = [formats.canonical(r) for r in _records()]
    path = tmp_path / f"export.{fmt}"
    formats.write(recs, path, fmt)
    assert formats.read(path, fmt) == recs
    if fmt == "labelstudio":
        tasks = json.loads(path.read_text("utf-8"))
        assert len(tasks) == 2 and len(tasks[0]["annotations"]) == 2  # one task per passage


def test_import_rejects_unknown_labels(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"text": "x", "accept": ["helix:robots"], "answer": "accept"}) + "\n", "utf-8")
    with pytest.raises(formats.FormatError, match="robots"):
        formats.read(p, "prodigy")


def test_stopping_hint_from_history():
    def pt(h, f1):
        return {"data_hash": h, "families": {"innovation": f1, "helix": 0.6, "criteria": 0.5}}
    hist = [pt("a", 0.50), pt("b", 0.58), pt("c", 0.60)]
    assert progress.stopping_hint(hist)["stop"] is False
    hist += [pt("d", 0.603), pt("e", 0.605)]
    hint = progress.stopping_hint(hist)
    assert hint["stop"] is True and "no longer" in hint["message"]
    assert progress.merge_history(hist, pt("e", 0.7)) == hist  # same data hash: no new point
