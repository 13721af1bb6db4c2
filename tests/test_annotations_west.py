"""Validate the hand-written west/south/north EU passages and the GECES-report passages.

``annotations/passages/written-west.jsonl`` holds passages written for the project in
13 languages; ``annotations/passages/report.jsonl`` holds verbatim passages of the
GECES 2021 report (CC-BY 4.0). Both feed training and evaluation, so a malformed
line, a wrong label id or a passage in the wrong language would silently poison a
model. The schema is documented in ``annotations/SCHEMA.md``.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WEST = REPO / "annotations" / "passages" / "written-west.jsonl"
REPORT = REPO / "annotations" / "passages" / "report.jsonl"
SEED = "seeds/000_2137871cfc3ac5ad.txt"

LABELS = {
    "innovation": ["economic", "social", "technological", "governance", "ecological"],
    "helix": ["social_economy", "business", "research_education", "public_authority", "civil_society"],
    "criteria": ["cooperating_group", "member_governance", "geographic_proximity", "interconnection"],
}
KINDS = {"csei", "industrial_cluster", "single_se", "policy_page", "federation", "academic", "news_other"}
# Kinds whose page is not an organisation presenting itself as a group: no criteria.
NO_CRITERIA_KINDS = {"single_se", "policy_page", "academic", "news_other"}
WEST_LANGS = ["de", "fr", "it", "es", "pt", "nl", "en", "da", "sv", "fi", "el", "ga", "mt"]
SMALL_LANGS = {"ga", "mt"}  # 4 documents (2 positive, 2 negative); langdetect has no profile
BASE_KEYS = {"id", "doc_id", "text", "lang", "source", "labels", "doc_label",
             "annotator", "written_for_project", "split"}
REPORT_KEYS = BASE_KEYS | {"license", "credit"}


def _load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            assert line.strip(), f"{path.name}:{n}: blank line"
            rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
def west() -> list[dict]:
    return _load(WEST)


@pytest.fixture(scope="module")
def report() -> list[dict]:
    return _load(REPORT)


def _check_common(r: dict, keys: set[str]) -> None:
    assert set(r) == keys, f"{r.get('id')}: keys {sorted(set(r) ^ keys)} differ from the schema"
    assert isinstance(r["text"], str) and r["text"] == r["text"].strip() and "\n" not in r["text"], r["id"]
    assert r["annotator"] == "csei-dev", r["id"]
    assert r["split"] is None, r["id"]
    assert set(r["labels"]) == set(LABELS), r["id"]
    for fam, allowed in LABELS.items():
        vals = r["labels"][fam]
        assert isinstance(vals, list), (r["id"], fam)
        assert len(vals) == len(set(vals)), f"{r['id']}: duplicate {fam} label"
        assert set(vals) <= set(allowed), f"{r['id']}: unknown {fam} ids {set(vals) - set(allowed)}"
    dl = r["doc_label"]
    assert set(dl) == {"is_csei", "kind"}, r["id"]
    assert dl["kind"] in KINDS, r["id"]
    assert dl["is_csei"] == int(dl["kind"] == "csei"), f"{r['id']}: is_csei disagrees with kind"
    if dl["kind"] in NO_CRITERIA_KINDS:
        assert r["labels"]["criteria"] == [], f"{r['id']}: criteria on a {dl['kind']} passage"


# ---------------------------------------------------------------- written-west

def test_west_schema(west):
    for r in west:
        _check_common(r, BASE_KEYS)
        assert r["lang"] in WEST_LANGS, r["id"]
        m = re.fullmatch(r"([a-z]{2})-w(\d{2})-p([1-3])", r["id"])
        assert m, f"bad id {r['id']}"
        assert m.group(1) == r["lang"], r["id"]
        assert r["doc_id"] == r["id"].rsplit("-p", 1)[0], r["id"]
        assert r["source"] == f"written:{r['doc_id']}", r["id"]
        assert r["written_for_project"] is True, r["id"]
        n = len(r["text"].split())
        assert 40 <= n <= 120, f"{r['id']}: {n} words, expected 40-120"


def test_west_ids_and_texts_unique(west):
    ids = Counter(r["id"] for r in west)
    assert not [i for i, c in ids.items() if c > 1]
    texts = Counter(r["text"] for r in west)
    assert not [t[:60] for t, c in texts.items() if c > 1]


def test_west_documents_have_three_passages_and_one_label(west):
    by_doc = defaultdict(list)
    for r in west:
        by_doc[r["doc_id"]].append(r)
    for doc_id, rows in by_doc.items():
        assert sorted(r["id"][-2:] for r in rows) == ["p1", "p2", "p3"], doc_id
        assert len({json.dumps(r["doc_label"], sort_keys=True) for r in rows}) == 1, doc_id


def test_west_language_balance(west):
    docs = {r["doc_id"]: (r["lang"], r["doc_label"]["is_csei"]) for r in west}
    for lang in WEST_LANGS:
        labels = [pos for (lg, pos) in docs.values() if lg == lang]
        need = 2 if lang in SMALL_LANGS else 3
        assert len(labels) >= 2 * need, f"{lang}: {len(labels)} documents"
        assert sum(labels) >= need, f"{lang}: {sum(labels)} positives"
        assert len(labels) - sum(labels) >= need, f"{lang}: {len(labels) - sum(labels)} negatives"


def test_west_negative_kinds_all_present(west):
    kinds = Counter(r["doc_label"]["kind"] for r in west if r["id"].endswith("-p1"))
    for kind in KINDS - {"csei"}:
        assert kinds[kind] >= 4, f"only {kinds[kind]} documents of kind {kind}"


def test_west_label_conventions(west):
    by_doc = defaultdict(list)
    for r in west:
        by_doc[r["doc_id"]].append(r)
    for doc_id, rows in by_doc.items():
        kind = rows[0]["doc_label"]["kind"]
        crit = set().union(*(r["labels"]["criteria"] for r in rows))
        helix = set().union(*(r["labels"]["helix"] for r in rows))
        if kind == "csei":
            # a positive presents itself as a group of organisations somewhere on the page
            assert "cooperating_group" in crit, doc_id
            assert len(helix) >= 2, f"{doc_id}: a cluster with fewer than two helix actors"
        if kind == "industrial_cluster":
            assert "social_economy" not in helix, f"{doc_id}: industrial cluster with social-economy members"
        if kind == "news_other":
            assert all(not r["labels"]["innovation"] for r in rows), f"{doc_id}: innovation on news"


def test_west_language_detected(west):
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    hits, total = Counter(), Counter()
    for r in west:
        if r["lang"] in SMALL_LANGS:
            continue
        total[r["lang"]] += 1
        hits[r["lang"]] += detect(r["text"]) == r["lang"]
    assert sum(hits.values()) >= 0.9 * sum(total.values()), dict(hits)
    for lang in total:
        assert hits[lang] >= 0.8 * total[lang], f"{lang}: {hits[lang]}/{total[lang]} detected"


# langdetect has no Irish or Maltese profile: check letters and function words instead.
_SMALL_MARKERS = {
    "mt": re.compile(r"[ħġżĦĠŻ]|għ", re.I),
    "ga": re.compile(r"\b(agus|ar an|an|na|ag|le|atá|bhfuil|sa)\b", re.I),
}


def test_west_small_languages_look_right(west):
    for r in west:
        if r["lang"] in _SMALL_MARKERS:
            found = _SMALL_MARKERS[r["lang"]].findall(r["text"])
            assert len(found) >= 3, f"{r['id']}: does not look like {r['lang']}"
            if r["lang"] == "ga":
                assert re.search(r"[áéíóú]", r["text"]), f"{r['id']}: Irish text without a fada"


# ---------------------------------------------------------------- report.jsonl

def test_report_schema(report):
    assert len(report) >= 50
    ids = Counter(r["id"] for r in report)
    assert not [i for i, c in ids.items() if c > 1]
    for r in report:
        _check_common(r, REPORT_KEYS)
        assert r["lang"] == "en", r["id"]
        assert re.fullmatch(r"report-[a-z0-9-]+-p\d+", r["id"]), r["id"]
        assert r["id"].rsplit("-p", 1)[0] == r["doc_id"], r["id"]
        assert r["source"].startswith("report:GECES-2021:"), r["id"]
        assert r["written_for_project"] is False, r["id"]
        assert r["license"] == "CC-BY-4.0", r["id"]
        assert "GECES" in r["credit"] and "2021" in r["credit"], r["id"]
        n = len(r["text"].split())
        assert 40 <= n <= 150, f"{r['id']}: {n} words, expected 40-150"
        if r["doc_id"].startswith("report-case-"):
            assert r["doc_label"]["kind"] in {"csei", "policy_page"}, r["id"]
        else:
            assert r["doc_label"] == {"is_csei": 0, "kind": "academic"}, r["id"]
    kinds = Counter(r["doc_label"]["kind"] for r in report)
    assert kinds["csei"] >= 30 and kinds["academic"] >= 15


def _letters(s: str) -> str:
    return re.sub(r"\W+", "", s).lower()


def test_report_passages_are_verbatim(report, shared_dir):
    seed = (shared_dir / SEED).read_text(encoding="utf-8")
    seed = seed.replace("m<sup>2</sup>", "m²")
    seed = re.sub(r"<sup>.*?</sup>", "", seed)
    seed = re.sub(r"</?b>", "", seed)
    flat = _letters(seed)
    for r in report:
        assert _letters(r["text"]) in flat, f"{r['id']}: not found verbatim in the GECES report"
