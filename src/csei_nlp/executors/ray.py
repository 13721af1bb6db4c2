"""Ray executor: the same per-document worker, spread over a Ray cluster.

A crawl of millions of pages outgrows one machine's process pool.  This
executor keeps the step list of the local one (``pipeline.process.process``
on each ``RawInput``) and only changes where it runs: inputs are grouped into
small batches, each batch is one Ray task, and the results come back to the
driver in input order, so everything downstream (dedup, tagging, store,
ranking, outputs) is byte-for-byte the same as with ``--engine local``.

Memory stays flat: at most ``max_in_flight`` batches are scheduled at a
time, and a batch is yielded as soon as it and every batch before it are done.

Isolation: the local executor runs every document under a wall-clock limit in
a replaceable process.  Here each batch is a streaming Ray task that announces
every document before it starts on it and yields it when done.  The driver
starts a document's clock when it sees that announcement, so neither the
queue, nor a worker's start-up, nor the documents before it count against a
document's limit.  A document that runs over its limit, or whose worker dies,
is recorded as ``failed`` (``timeout`` / ``crashed``) with a sentence naming
it; its task is cancelled and the rest of the batch goes on in a new task.
Ray's own retries are off: a document that kills a worker once would kill it
again.

``ray`` is an optional dependency (``pip install 'csei-nlp[ray]'``); asking
for this engine without it is a configuration error, raised before any input
is read.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..pipeline.process import process
from ..types import Document, RawInput

DEFAULT_BATCH = 16


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs the 'ray' package: pip install 'csei-nlp[ray]'") from None
    return ray


def _process_stream(raws: list[RawInput], cfg: Config) -> Iterator[int | Document]:
    """The body of one Ray task: announce each input's index, then yield its Document."""
    for i, raw in enumerate(raws):
        yield i
        yield process(raw, cfg)


def _timeout_for(raw: RawInput, cfg: Config) -> float:
    if raw.status != "ok":
        return 1.0
    if raw.media == "pdf":
        return float(cfg.pdf.timeout_s) + 5.0
    return float(cfg.scan.doc_timeout_s)


def ensure_ray(address: str | None, workers: int | None) -> tuple[Any, bool]:
    """Connect to ``address`` (or an already running driver session, or a new local instance).

    Returns the ray module and whether this call started the session (and so
    must shut it down).
    """
    ray = require_ray()
    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "configure_logging": False}
    if address:
        kwargs["address"] = address
    elif not os.environ.get("RAY_ADDRESS"):
        kwargs["num_cpus"] = workers
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or os.environ.get("RAY_ADDRESS") or "a new local instance"
        raise ConfigError(f"cannot start or reach the Ray cluster at {where}: {exc}") from exc
    return ray, True


class _Batch:
    __slots__ = ("raws", "stream")

    def __init__(self, raws: list[RawInput], stream: Any) -> None:
        self.raws, self.stream = raws, stream


def run(raws: Iterable[RawInput], cfg: Config, *, address: str | None = None,
        workers: int | None = None, batch_size: int = DEFAULT_BATCH,
        max_in_flight: int | None = None) -> Iterator[Document]:
    """Process ``raws`` as Ray tasks; yield one Document per input, in input order.

    ``address``: a Ray cluster (``ray://head:10001`` or ``head:6379``); None
    uses the session this process already has, then ``$RAY_ADDRESS``, then
    starts a local instance with ``workers`` CPUs (default ``[scan] workers``)
    and shuts it down at the end.  ``batch_size`` inputs make one task; at
    most ``max_in_flight`` tasks (default: 2 per cluster CPU) are pending.
    """
    if batch_size < 1:
        raise ConfigError(f"the Ray executor's batch_size must be >= 1, got {batch_size}")
    workers = int(cfg.scan.workers) if workers is None else workers
    ray, owned = ensure_ray(address, workers)
    try:
        remote = ray.remote(max_retries=0, num_cpus=1)(_process_stream)
        cfg_ref = ray.put(cfg)
        if max_in_flight is None:
            cpus = int(ray.cluster_resources().get("CPU", workers or 1))
            max_in_flight = max(2, 2 * cpus)
        window: deque[_Batch] = deque()
        try:
            for chunk in _chunks(raws, batch_size):
                window.append(_Batch(chunk, remote.remote(chunk, cfg_ref)))
                while len(window) >= max_in_flight:
                    yield from _resolve(ray, remote, cfg_ref, window.popleft(), cfg)
            while window:
                yield from _resolve(ray, remote, cfg_ref, window.popleft(), cfg)
        finally:
            for b in window:
                ray.cancel(b.stream, force=True)
    finally:
        if owned:
            ray.shutdown()


def _chunks(raws: Iterable[RawInput], size: int) -> Iterator[list[RawInput]]:
    chunk: list[RawInput] = []
    for raw in raws:
        chunk.append(raw)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _resolve(ray: Any, remote: Any, cfg_ref: Any, batch: _Batch, cfg: Config) -> list[Document]:
    """The batch's Documents, in order; one that hangs or crashes is recorded and the rest go on."""
    docs: list[Document] = []
    stream, offset = batch.stream, 0  # offset: index in batch.raws of the stream's first input
    while len(docs) < len(batch.raws):
        raw = batch.raws[len(docs)]
        # the announcement has no limit: queueing and worker start-up are not the document's time
        outcome, value = _next(ray, stream, None)
        if outcome == "ok":
            if value != len(docs) - offset:
                raise RuntimeError(f"Ray stream out of order: expected input {len(docs) - offset}, got {value}")
            outcome, value = _next(ray, stream, _timeout_for(raw, cfg))
        if outcome == "ok":
            docs.append(value)
            continue
        ray.cancel(stream, force=True)
        docs.append(_failed(raw, outcome, value, cfg))
        offset = len(docs)
        if offset < len(batch.raws):
            stream = remote.remote(batch.raws[offset:], cfg_ref)
    return docs


def _next(ray: Any, stream: Any, timeout: float | None) -> tuple[str, Any]:
    """The stream's next item: ("ok", value), ("timeout", limit), ("crashed"|"error", exception)."""
    from ray.exceptions import RayTaskError, TaskCancelledError, WorkerCrashedError

    try:
        ready, _ = ray.wait([stream], timeout=timeout)
        if not ready:
            return "timeout", timeout
        return "ok", ray.get(next(stream))
    except StopIteration:
        return "crashed", RuntimeError("the task ended early")
    except (WorkerCrashedError, TaskCancelledError) as exc:
        return "crashed", exc
    except RayTaskError as exc:  # process() never raises; this is a serialisation or import problem
        return "error", exc.cause if getattr(exc, "cause", None) is not None else exc
    except Exception as exc:  # noqa: BLE001 - e.g. the node holding the task was lost
        return "crashed", exc


def _failed(raw: RawInput, outcome: str, value: Any, cfg: Config) -> Document:
    doc = Document.from_raw(raw)
    if outcome == "timeout":
        return doc.fail("failed", "timeout",
                        f"{raw.source_ref}: processing took longer than {_timeout_for(raw, cfg):.0f} s "
                        f"and was stopped")
    if outcome == "crashed":
        return doc.fail("failed", "crashed",
                        f"{raw.source_ref}: the Ray worker died while processing it ({type(value).__name__})")
    return doc.fail("failed", "error", f"{raw.source_ref}: {type(value).__name__}: {value}")
