"""Local executor: workers are reused up to ``[scan] max_tasks_per_worker`` documents."""
from __future__ import annotations

import os

import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError
from csei_nlp.executors import local
from csei_nlp.pipeline.process import process as real_process
from csei_nlp.types import RawInput

TEXT = "Spółdzielnia socjalna prowadzi sklep z lokalną żywnością dla mieszkańców gminy."


def _with_pid(raw, cfg):
    doc = real_process(raw, cfg)
    doc.meta["worker_pid"] = os.getpid()
    return doc


@pytest.fixture()
def pid_recording(monkeypatch):
    # Workers are forked from this process, so they inherit the patched name.
    monkeypatch.setattr(local, "process", _with_pid)


def _pids(cfg, n: int = 6, **kw) -> list[int]:
    raws = [RawInput(source=f"t{i}", media="text", data=TEXT) for i in range(n)]
    docs = list(local.run(raws, cfg, workers=1, **kw))
    assert [d.source for d in docs] == [r.source for r in raws]  # input order
    assert all(d.status == "ok" and d.lang == "pl" for d in docs)
    return [d.meta["worker_pid"] for d in docs]


def test_default_reuses_one_worker_for_the_whole_run(pid_recording):
    cfg = config.load()
    assert cfg.scan.max_tasks_per_worker >= 10_000
    pids = _pids(cfg)
    assert len(set(pids)) == 1 and pids[0] != os.getpid()


def test_workers_are_recycled_after_max_tasks_per_worker(pid_recording):
    cfg = config.load(overrides={"scan": {"max_tasks_per_worker": 2}})
    pids = _pids(cfg)
    assert len(set(pids)) == 3, pids  # 6 documents, 2 per worker
    # the argument overrides the configuration; 0 never recycles
    assert len(set(_pids(cfg, max_tasks=0))) == 1


def test_bad_max_tasks_is_a_config_error():
    with pytest.raises(ConfigError, match="max_tasks_per_worker must be >= 0"):
        config.load(overrides={"scan": {"max_tasks_per_worker": -5}})
    with pytest.raises(ConfigError, match="max_tasks must be >= 0"):
        list(local.run([], config.load(), workers=1, max_tasks=-1))


PAGE = ("Spółdzielnia socjalna prowadzi pralnię i catering razem z gminą, szkołą zawodową i lokalnymi "
        "firmami. Członkowie klastra zatrudniają osoby długotrwale bezrobotne z naszego regionu, a walne "
        "zgromadzenie członków decyduje o wspólnych projektach gospodarki obiegu zamkniętego.")


def test_documents_are_embedded_and_classified_in_the_workers(monkeypatch):
    """The driver only checks the models; the worker embeds and classifies, and reports its counts."""
    from csei_nlp.pipeline.tag import Tagging

    real_tag = Tagging.tag

    def tag_recording_pid(self, docs):
        real_tag(self, docs)
        for d in docs:
            d.meta["tagged_in"] = os.getpid()

    monkeypatch.setattr(Tagging, "tag", tag_recording_pid)  # forked workers inherit the patch
    cfg = config.load(overrides={"scan": {"model_threads": 1, "tag_batch": 2}})
    driver = Tagging.from_config(cfg, load_embedder=False)
    assert driver.embedder is None and driver.enabled
    raws = [RawInput(source=f"t{i}", media="text", data=PAGE + f" Numer {i}.") for i in range(3)]
    raws.insert(1, RawInput(source="gone.txt", media="text", status="failed", reason="unreadable"))
    docs = list(local.run(raws, cfg, workers=1, tagging=driver))
    assert [d.source for d in docs] == [r.source for r in raws]
    ok = [d for d in docs if d.status == "ok"]
    assert len(ok) == 3 and all(d.meta["embedded"] and d.labels for d in ok)
    assert os.getpid() not in {d.meta["tagged_in"] for d in ok}
    assert all(d.vectors.shape == (len(d.passages), 384) for d in ok)
    assert driver.counts["embedded_documents"] == 3 and driver.anchors


def test_a_worker_forked_after_openmp_started_still_classifies():
    """The candidate model's neighbour search and trees run on OpenMP. A process whose OpenMP thread pool has started
    (a test run, the web app after a retrain, a discover job) forks its workers with that pool's
    state, and the worker's first multi-threaded region then hangs until the document times out."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from csei_nlp.pipeline.tag import Tagging

    rng = np.random.default_rng(0)
    with threadpool_limits(limits=2, user_api="openmp"):  # start a pool of more than one thread here
        HistGradientBoostingClassifier(max_iter=5).fit(rng.random((500, 5)), rng.random(500) > 0.5)
    # batches of one: a batch that times out is not retried, so a hang fails its document
    cfg = config.load(overrides={"scan": {"tag_batch": 1}})
    driver = Tagging.from_config(cfg, load_embedder=False)
    candidate = driver.tagger._models["candidate"]
    assert candidate.get("boost") is not None and candidate.get("neighbours") is not None, "trees and neighbours"
    raws = [RawInput(source=f"t{i}", media="text", data=PAGE + f" Numer {i}.") for i in range(2)]
    docs = list(local.run(raws, cfg, workers=1, tagging=driver))
    assert [d.status for d in docs] == ["ok", "ok"], [d.detail for d in docs]
    assert all(0 <= d.meta["candidate_prob"] <= 1 for d in docs)
