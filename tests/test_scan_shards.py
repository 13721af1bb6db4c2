"""Result shards: a scan writes its documents per shard (Parquet) and a stopped scan resumes from them.

The resumed scan must give the same outputs as an uninterrupted one, read back
only the documents whose inputs did not change, and start afresh when the
processing settings change or ``--fresh`` is asked for.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from csei_nlp import config
from csei_nlp.scan import run_scan
from csei_nlp.store.shards import ShardFolder
from csei_nlp.types import Document, Passage, Span

PAGE = """<html lang="pl"><head><meta charset="utf-8"><title>Strona {i}</title></head><body><main>
<p>Spółdzielnia socjalna numer {i} prowadzi pralnię i catering razem z gminą, szkołą zawodową
i lokalnymi firmami, zatrudniając osoby długotrwale bezrobotne z naszego regionu.</p></main></body></html>"""


def test_a_shard_gives_back_its_documents_with_passages_and_vectors(tmp_path):
    text = "Klaster łączy spółdzielnie. Gmina pomaga."
    d = Document(id="d1", source="/x/a.html", media="html", url="https://a.pl/", site="a.pl", text=text,
                 lang="pl", lang_scores={"pl": 0.9}, labels={"helix": {"business": 0.25}},
                 tags={"helix": []}, meta={"embedded": True, "candidate_prob": 0.5}, links=["https://b.pl/"])
    d.passages = [Passage("d1", 0, 0, 27, text[:27], "pl", 5, [Span(0, 7, "Klaster", "cue", "self_designation",
                                                                       "cluster", "klaster")],
                          {"helix": {"business": 0.25}}, True),
                  Passage("d1", 1, 28, len(text), text[28:], "pl", 3, skip_reason="budget")]
    d.vectors = np.arange(2 * 4, dtype=np.float32).reshape(2, 4) / 10
    failed = Document(id="d2", source="/x/b.pdf", media="pdf", status="failed", reason="corrupt", detail="b.pdf: bad")
    shards = ShardFolder(tmp_path)
    shards.open({"fingerprint": "f"})
    shards.write(0, [d, failed], {"anchors": {"lo": 0.1}}, dim=4)
    docs, info = shards.read(0)
    assert info["anchors"] == {"lo": 0.1}
    back, back_failed = docs
    assert np.array_equal(back.vectors, d.vectors) and back_failed.vectors is None
    back.vectors = d.vectors = None
    assert back == d and back_failed == failed


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    for i in range(5):
        (root / f"p{i}.html").write_text(PAGE.format(i=i), "utf-8")
    return root


def _docs(out: Path) -> str:
    rows = [json.loads(x) for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    return json.dumps([{k: v for k, v in r.items() if k != "run_id"} for r in rows], sort_keys=True)


def test_a_stopped_scan_resumes_from_its_shards(corpus: Path, tmp_path: Path):
    cfg = config.load(overrides={"classify": {"enabled": False}, "scan": {"workers": 1, "shard_docs": 2}})
    out = tmp_path / "out"
    first = run_scan([corpus], out, cfg)
    assert first.resumed == 0 and first.ok == 5
    shards = sorted(p.name for p in (out / "shards").glob("*.parquet"))
    assert shards == ["00000.parquet", "00001.parquet", "00002.parquet"]
    whole = _docs(out)

    # stopped before its last shard: the first four documents are read back, the fifth is processed
    (out / "shards" / "00002.parquet").unlink()
    again = run_scan([corpus], out, cfg)
    assert again.resumed == 4 and again.seen == 5
    assert _docs(out) == whole
    assert (out / "shards" / "00002.parquet").is_file()

    # an input changed since: its shard and every later one are processed again
    changed = corpus / "p2.html"
    changed.write_text(PAGE.format(i=22), "utf-8")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    third = run_scan([corpus], out, cfg)
    assert third.resumed == 2
    titles = [json.loads(x)["title"] for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    assert sorted(titles) == ["Strona 0", "Strona 1", "Strona 22", "Strona 3", "Strona 4"]

    # other processing settings, or --fresh: nothing is read back
    other = config.load(overrides={"classify": {"enabled": False},
                                   "scan": {"workers": 1, "shard_docs": 2}, "segment": {"max_tokens": 100}})
    assert run_scan([corpus], out, other).resumed == 0
    assert run_scan([corpus], out, other, fresh=True).resumed == 0
    assert run_scan([corpus], out, other).resumed == 5
