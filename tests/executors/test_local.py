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
