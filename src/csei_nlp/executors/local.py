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

The model stages run in the same workers (``tagging``): embedding and
classifying are nearly the whole cost of an uncached scan.  Each worker builds
its embedder once, in the pool's initializer (before its first task's clock
starts), with its share of the cores
(:func:`~csei_nlp.pipeline.tag.threads_per_worker`); the classifiers come from
the driver, which loaded them to check them (a forked worker shares them).
Processed documents go back to the pool in batches of ``[scan] tag_batch``
documents, in input order, to be embedded and classified: scikit-learn's cost
per call is as large as a small document's, so one call per document would
double the classifying time.  The batches are the same whatever the number of
workers, and the same as the Ray executor's, so every engine gives the same
documents.  A batch that runs over its limit or kills its worker is tagged
again one document at a time, so that only the document at fault is recorded
as failed.

Results come back in input order, with a bounded number in flight, so memory
stays flat however large the corpus.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..pipeline.process import process, warm_up
from ..pipeline.tag import Tagging, threads_per_worker
from ..types import Document, RawInput

_CFG: Config | None = None
_TAGGING: Tagging | BaseException | None = None  # the worker's models, or why they could not load


def _init(cfg: Config, tagger: Any, tag_threads: int | None) -> None:
    """Pool initializer: keep the configuration; build the worker's models when it tags."""
    global _CFG, _TAGGING
    _CFG = cfg
    _TAGGING = None
    warm_up(cfg)  # the language models and spaCy load here, not on the first document's clock
    if tag_threads is not None:
        try:
            _TAGGING = Tagging.from_config(cfg, threads=tag_threads, tagger=tagger)
        except Exception as exc:  # noqa: BLE001 - raising here would restart the worker forever
            _TAGGING = exc


def _work(raw: RawInput) -> Document:
    assert _CFG is not None
    return process(raw, _CFG)


def _tag_work(docs: list[Document]) -> tuple[list[Document], dict]:
    return tag_batch(docs, _TAGGING)


def tag_batch(docs: list[Document], tagging: Tagging | BaseException | None) -> tuple[list[Document], dict]:
    """Embed and classify the ok documents of ``docs``; return them and the tagging's stats."""
    if isinstance(tagging, BaseException) or tagging is None:
        raise RuntimeError(f"the worker could not load the models: {type(tagging).__name__}: {tagging}")
    tagging.tag([d for d in docs if d.status == "ok"])
    return docs, tagging.take_stats()


def _timeout_for(raw: RawInput, cfg: Config) -> float:
    if raw.media == "pdf":
        return float(cfg.pdf.timeout_s) + 5.0
    return float(cfg.scan.doc_timeout_s)


def _failure(fut: Any, limit: float) -> tuple[Any, str, str]:
    """(result, reason, sentence): the result, or why the task gave none ("" when it did)."""
    from pebble import ProcessExpired

    try:
        return fut.result(), "", ""
    except FutureTimeout:
        return None, "timeout", f"processing took longer than {limit:.0f} s and was stopped"
    except ProcessExpired as exc:
        return None, "crashed", f"the worker process died (exit code {exc.exitcode})"
    except Exception as exc:  # noqa: BLE001 - recorded, never raised
        return None, "error", f"{type(exc).__name__}: {exc}"


def _collect(raw: RawInput, fut: Any, cfg: Config) -> Document:
    doc, reason, why = _failure(fut, _timeout_for(raw, cfg))
    if reason:
        return Document.from_raw(raw).fail("failed", reason, f"{raw.source_ref}: {why}")
    return doc


def run(raws: Iterable[RawInput], cfg: Config, workers: int | None = None,
        max_tasks: int | None = None, tagging: Tagging | None = None,
        on_processed: Callable[[Document], None] | None = None) -> Iterator[Document]:
    """Process ``raws`` in worker processes; yield one Document per input, in order.

    ``workers=0`` runs in this process without timeouts (for debugging and
    for engines that bring their own isolation).  ``max_tasks``: documents per
    worker before it is replaced (default ``[scan] max_tasks_per_worker``; 0 = never).
    ``tagging``: the driver's :class:`Tagging`; when given, the workers also embed and
    classify the ok documents (with an embedder of their own) and report their timings to it.
    ``on_processed(doc)`` is called for each document when its processing is done (progress).
    """
    workers = cfg.scan.workers if workers is None else workers
    max_tasks = int(cfg.scan.max_tasks_per_worker) if max_tasks is None else max_tasks
    if max_tasks < 0:
        raise ConfigError(f"max_tasks must be >= 0 (0 = never recycle), got {max_tasks}")
    if workers == 0:
        here = Tagging.from_config(cfg, tagger=tagging.tagger) if tagging is not None else None
        processed = _reported((process(raw, cfg) for raw in raws), on_processed)
        if tagging is None:
            yield from processed
            return
        for batch in chunks(processed, int(cfg.scan.tag_batch)):
            docs, stats = tag_batch(batch, here)
            tagging.absorb(stats)
            yield from docs
        return

    from pebble import ProcessPool

    threads = threads_per_worker(cfg, workers) if tagging is not None else None
    tagger = tagging.tagger if tagging is not None else None
    with ProcessPool(max_workers=workers, max_tasks=max_tasks, initializer=_init,
                     initargs=(cfg, tagger, threads)) as pool:
        processed = _reported(_processed(pool, raws, cfg, max(4, workers * 4)), on_processed)
        if tagging is None:
            yield from processed
        else:
            yield from _tagged(pool, processed, cfg, tagging, max(2, workers * 2))


def _reported(docs: Iterable[Document], on_processed: Callable[[Document], None] | None) -> Iterator[Document]:
    for doc in docs:
        if on_processed is not None:
            on_processed(doc)
        yield doc


def _processed(pool: Any, raws: Iterable[RawInput], cfg: Config, limit: int) -> Iterator[Document]:
    window: deque[tuple[RawInput, Any]] = deque()
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


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter), in order."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tag_limit(docs: list[Document], cfg: Config) -> float:
    return float(cfg.scan.doc_timeout_s) * max(1, sum(1 for d in docs if d.status == "ok"))


def _tagged(pool: Any, docs: Iterable[Document], cfg: Config, tagging: Tagging, limit: int) -> Iterator[Document]:
    """``docs`` embedded and classified in the pool, in batches, in order."""
    window: deque[tuple[list[Document], Any]] = deque()
    try:
        for batch in chunks(docs, int(cfg.scan.tag_batch)):
            window.append((batch, pool.schedule(_tag_work, args=(batch,), timeout=_tag_limit(batch, cfg))))
            while len(window) >= limit:
                yield from _tag_result(pool, *window.popleft(), cfg, tagging)
        while window:
            yield from _tag_result(pool, *window.popleft(), cfg, tagging)
    finally:
        for _, fut in window:
            fut.cancel()


def _tag_result(pool: Any, batch: list[Document], fut: Any, cfg: Config, tagging: Tagging) -> list[Document]:
    """The tagged batch; when the task failed, each of its ok documents again alone."""
    got, reason, why = _failure(fut, _tag_limit(batch, cfg))
    if not reason:
        docs, stats = got
        tagging.absorb(stats)
        return docs
    ok = [d for d in batch if d.status == "ok"]
    if len(ok) <= 1:
        for d in ok:
            d.fail("failed", reason, f"{d.source_ref}: while embedding and classifying: {why}")
        return batch
    out = []
    for d in batch:  # the documents keep their order; each ok one is tagged on its own
        if d.status != "ok":
            out.append(d)
            continue
        out += _tag_result(pool, [d], pool.schedule(_tag_work, args=([d],), timeout=_tag_limit([d], cfg)),
                           cfg, tagging)
    return out
