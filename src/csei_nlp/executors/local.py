"""Local executor: the per-document worker in a pool of processes.

Extraction libraries can hang, exhaust memory or segfault on hostile input
(trafilatura on huge tables, pdfminer on damaged files).  Each document
therefore runs in a worker process with a wall-clock timeout; a worker that
dies or times out is replaced, and the document is recorded as failed with the
reason.  Workers are recycled every ``[scan] max_tasks_per_worker`` documents
to bound memory growth in long runs.  A fresh worker loads its models again
(spaCy pipelines, cue matchers, lingua: about 14 s for 20 languages), so the
default is high (10,000): at 500 a 1,000-page run paid that warm-up four times
over on two workers (bench/README.md).  0 never recycles.

Results come back in input order, with a bounded number in flight, so memory
stays flat however large the corpus.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..pipeline.process import process
from ..types import Document, RawInput

_CFG: Config | None = None


def _init(cfg: Config) -> None:
    global _CFG
    _CFG = cfg


def _work(raw: RawInput) -> Document:
    assert _CFG is not None
    return process(raw, _CFG)


def _timeout_for(raw: RawInput, cfg: Config) -> float:
    if raw.media == "pdf":
        return float(cfg.pdf.timeout_s) + 5.0
    return float(cfg.scan.doc_timeout_s)


def _collect(raw: RawInput, fut: Any, cfg: Config) -> Document:
    from pebble import ProcessExpired

    try:
        return fut.result()
    except FutureTimeout:
        return Document.from_raw(raw).fail(
            "failed", "timeout",
            f"{raw.source_ref}: processing took longer than {_timeout_for(raw, cfg):.0f} s and was stopped")
    except ProcessExpired as exc:
        return Document.from_raw(raw).fail(
            "failed", "crashed", f"{raw.source_ref}: the worker process died (exit code {exc.exitcode})")
    except Exception as exc:  # noqa: BLE001 - recorded, never raised
        return Document.from_raw(raw).fail("failed", "error", f"{raw.source_ref}: {type(exc).__name__}: {exc}")


def run(raws: Iterable[RawInput], cfg: Config, workers: int | None = None,
        max_tasks: int | None = None) -> Iterator[Document]:
    """Process ``raws`` in worker processes; yield one Document per input, in order.

    ``workers=0`` runs in this process without timeouts (for debugging and
    for engines that bring their own isolation).  ``max_tasks``: documents per
    worker before it is replaced (default ``[scan] max_tasks_per_worker``; 0 = never).
    """
    workers = cfg.scan.workers if workers is None else workers
    max_tasks = int(cfg.scan.max_tasks_per_worker) if max_tasks is None else max_tasks
    if max_tasks < 0:
        raise ConfigError(f"max_tasks must be >= 0 (0 = never recycle), got {max_tasks}")
    if workers == 0:
        for raw in raws:
            yield process(raw, cfg)
        return

    from pebble import ProcessPool

    window: deque[tuple[RawInput, Any]] = deque()
    limit = max(4, workers * 4)
    with ProcessPool(max_workers=workers, max_tasks=max_tasks, initializer=_init, initargs=(cfg,)) as pool:
        try:
            for raw in raws:
                if raw.status != "ok":
                    window.append((raw, None))
                else:
                    window.append((raw, pool.schedule(_work, args=(raw,), timeout=_timeout_for(raw, cfg))))
                while len(window) >= limit:
                    yield _resolve(*window.popleft(), cfg)
            while window:
                yield _resolve(*window.popleft(), cfg)
        finally:
            for _, fut in window:
                if fut is not None:
                    fut.cancel()


def _resolve(raw: RawInput, fut: Any, cfg: Config) -> Document:
    if fut is None:
        return process(raw, cfg)  # already skipped/failed by the reader: no work to do
    return _collect(raw, fut, cfg)
