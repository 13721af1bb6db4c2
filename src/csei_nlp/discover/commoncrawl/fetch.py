"""Read Common Crawl records by byte range: concurrent, rate-limited, retried with backoff.

Why byte ranges: a WARC file of a crawl is about 1 GB and holds some 40,000
records; a job wants a few of them.  Each record is one gzip member, so the
range ``offset .. offset+length-1`` of ``warc_prefix + warc_filename`` is a
complete, valid WARC record on its own.  Exactly that range is asked for, once
per attempt; a server that answers with the whole file (200 instead of 206) is
not read from but recorded as a failure, so no whole-file download ever
happens by accident.

Network-bound: many reads are in flight at once (a thread pool of
``concurrency``), all of them spaced by one rate limit (``requests_per_s``
over every thread).  A transient failure (429 or 5xx, a timeout, a connection
reset, fewer bytes than asked for) is retried after ``backoff_s``, then twice
that, and so on, up to ``retries`` times; a permanent one (404, 403, a range
the server refuses or ignores, bytes that are not a WARC record) is not.
Every record ends as a :class:`Fetched`: its bytes, or the reason it failed,
whether a later run should try it again, and how many requests it took.

A ``warc_prefix`` that is a local folder reads the same byte range from the
file (a downloaded crawl, or the tests' mini crawl).

With ``--engine ray`` (:func:`fetch_ray`) the records are cut into batches;
each batch is one Ray task running :func:`fetch_all` with its own thread pool
and its share of the rate limit.
"""
from __future__ import annotations

import gzip
import http.client
import io
import random
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...store.ccindex import IndexRecord

# Reasons a retry cannot change (the record is not requested again, not even by a later run).
PERMANENT = frozenset({"not_found", "forbidden", "bad_range", "range_ignored", "corrupt", "mismatch",
                       "http_error"})


@dataclass(frozen=True)
class FetchSettings:
    """How records are read (the ``[inputs.commoncrawl]`` keys of the same names)."""

    concurrency: int = 16
    requests_per_s: float = 10.0  # over every thread of this process; 0 = no limit
    retries: int = 4
    backoff_s: float = 1.0
    timeout_s: float = 60.0
    user_agent: str = "csei-nlp"


@dataclass(frozen=True)
class Fetched:
    record: IndexRecord
    data: bytes | None  # the record's gzip member, exactly ``record.length`` bytes; None when it failed
    reason: str = ""  # why it failed (``not_found``, ``http_503``, ``short_read``, ``corrupt`` ...)
    message: str = ""
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.data is not None

    @property
    def retry_later(self) -> bool:
        return not self.ok and self.reason not in PERMANENT


class FetchError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def transient(self) -> bool:
        return self.reason not in PERMANENT


class RateLimiter:
    """At most ``per_s`` acquisitions a second over all threads (evenly spaced); 0 = no limit."""

    def __init__(self, per_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_s if per_s > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.next_at = 0.0

    def acquire(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        if at > now:
            self.sleep(at - now)


def source_of(prefix: str, rec: IndexRecord) -> str:
    """Where a record's WARC file is: ``warc_prefix`` joined with ``warc_filename``."""
    return prefix.rstrip("/") + "/" + rec.warc_filename.lstrip("/")


def read_range(prefix: str, rec: IndexRecord, settings: FetchSettings) -> bytes:
    """One attempt: exactly bytes ``offset .. offset+length-1`` of the record's file, or FetchError."""
    src = source_of(prefix, rec)
    if not src.startswith(("http://", "https://")):
        return _read_local(Path(src), rec)
    last = rec.offset + rec.length - 1
    req = urllib.request.Request(src, headers={"Range": f"bytes={rec.offset}-{last}",
                                               "User-Agent": settings.user_agent,
                                               "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(req, timeout=settings.timeout_s) as resp:
            if resp.status != 206:
                # the server ignored Range: reading on would download the whole file
                raise FetchError("range_ignored", f"{src}: answered {resp.status} to a range request "
                                                  f"(bytes {rec.offset}-{last}); not read")
            data = resp.read(rec.length + 1)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise _http_error(src, exc.code, str(exc.reason)) from None
    except http.client.IncompleteRead as exc:
        raise FetchError("short_read", f"{src}: connection closed after {len(exc.partial)} of "
                                       f"{rec.length} bytes at offset {rec.offset}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timeout" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else "network"
        raise FetchError(kind, f"{src}: {type(exc).__name__}: {reason}") from None
    return _checked_length(src, rec, data)


def _read_local(path: Path, rec: IndexRecord) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(rec.offset)
            data = fh.read(rec.length + 1)
    except FileNotFoundError:
        raise FetchError("not_found", f"{path}: no such WARC file") from None
    except OSError as exc:
        raise FetchError("network", f"{path}: {exc.strerror or exc}") from None
    return _checked_length(str(path), rec, data[:rec.length] if len(data) > rec.length else data)


def _checked_length(src: str, rec: IndexRecord, data: bytes) -> bytes:
    if len(data) < rec.length:
        raise FetchError("short_read", f"{src}: got {len(data)} of {rec.length} bytes at offset {rec.offset}")
    if len(data) > rec.length:
        raise FetchError("bad_range", f"{src}: got more than the {rec.length} bytes asked for at offset "
                                      f"{rec.offset}")
    return data


def _http_error(src: str, code: int, reason: str) -> FetchError:
    if code in (404, 410):
        return FetchError("not_found", f"{src}: HTTP {code} {reason}")
    if code in (401, 403):
        return FetchError("forbidden", f"{src}: HTTP {code} {reason}")
    if code == 416:
        return FetchError("bad_range", f"{src}: HTTP 416, the range lies outside the file")
    if code in (408, 429) or code >= 500:
        return FetchError(f"http_{code}", f"{src}: HTTP {code} {reason}")
    return FetchError("http_error", f"{src}: HTTP {code} {reason}")


def check_record(data: bytes) -> str:
    """The WARC-Target-URI of ``data`` if it is one complete gzip member holding one WARC record;
    FetchError("corrupt") otherwise (a wrong offset, a damaged file)."""
    from warcio.archiveiterator import ArchiveIterator

    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = d.decompress(data)
        if not d.eof:
            raise FetchError("corrupt", "the gzip member ends early")
        if d.unused_data:
            raise FetchError("corrupt", "more than one gzip member in the range")
        if not body.startswith(b"WARC/"):
            raise FetchError("corrupt", "the bytes are not a WARC record")
        recs = ArchiveIterator(io.BytesIO(data))
        rec = next(recs)
        rec.content_stream().read()
        return rec.rec_headers.get_header("WARC-Target-URI") or ""
    except FetchError:
        raise
    except (zlib.error, gzip.BadGzipFile, EOFError, StopIteration, ValueError, OSError) as exc:
        raise FetchError("corrupt", f"not a valid gzipped WARC record: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - warcio raises assorted errors on junk
        raise FetchError("corrupt", f"not a valid WARC record: {type(exc).__name__}: {exc}") from None


def fetch_one(prefix: str, rec: IndexRecord, settings: FetchSettings, limiter: RateLimiter,
              sleep: Callable[[float], None] = time.sleep) -> Fetched:
    """The record, after up to ``settings.retries`` retries of transient failures."""
    attempt = 0
    while True:
        attempt += 1
        limiter.acquire()
        try:
            data = read_range(prefix, rec, settings)
            uri = check_record(data)
            if uri != rec.url:  # a valid record, but not the one the index row names (a wrong offset)
                raise FetchError("mismatch", f"{source_of(prefix, rec)} at offset {rec.offset} holds {uri!r}, "
                                             f"not {rec.url!r}")
            return Fetched(rec, data, attempts=attempt)
        except FetchError as exc:
            if not exc.transient or attempt > settings.retries:
                return Fetched(rec, None, exc.reason, str(exc), attempts=attempt)
            wait = settings.backoff_s * (2 ** (attempt - 1))
            sleep(wait * (0.75 + 0.5 * random.random()))  # jitter: threads that failed together spread out


def fetch_all(prefix: str, records: list[IndexRecord], settings: FetchSettings, *,
              sleep: Callable[[float], None] = time.sleep) -> Iterator[Fetched]:
    """Every record once, ``settings.concurrency`` at a time; yielded in the order of ``records``.

    At most four records per thread are fetched ahead of the one the caller waits for, so
    memory stays bounded when one record is slow (its retries wait out their backoff)."""
    limiter = RateLimiter(settings.requests_per_s, sleep=sleep)
    if not records:
        return
    ahead = 4 * settings.concurrency
    with ThreadPoolExecutor(max_workers=min(settings.concurrency, len(records)),
                            thread_name_prefix="cc-fetch") as pool:
        window: deque[Future[Fetched]] = deque()
        for rec in records:
            window.append(pool.submit(fetch_one, prefix, rec, settings, limiter, sleep))
            if len(window) >= ahead:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _fetch_batch(prefix: str, records: list[IndexRecord], settings: FetchSettings) -> list[Fetched]:
    """The body of one Ray task."""
    return list(fetch_all(prefix, records, settings))


def fetch_ray(prefix: str, records: list[IndexRecord], settings: FetchSettings, *,
              address: str | None = None, batch_size: int = 0, max_in_flight: int | None = None
              ) -> Iterator[Fetched]:
    """:func:`fetch_all` as Ray tasks (one batch each, yielded in order); the rate limit is shared
    out between the tasks in flight."""
    from ...executors.ray import ensure_ray

    if not records:
        return
    ray, owned = ensure_ray(address, None)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        in_flight = max_in_flight or 2 * cpus
        size = batch_size or max(settings.concurrency * 8, -(-len(records) // in_flight))
        batches = [records[i:i + size] for i in range(0, len(records), size)]
        in_flight = min(in_flight, len(batches))
        share = replace(settings, requests_per_s=settings.requests_per_s / in_flight)
        remote = ray.remote(num_cpus=0.25, max_retries=1)(_fetch_batch)
        pending: list[Any] = []
        for batch in batches:
            pending.append(remote.remote(prefix, batch, share))
            if len(pending) >= in_flight:
                yield from ray.get(pending.pop(0))
        for ref in pending:
            yield from ray.get(ref)
    finally:
        if owned:
            ray.shutdown()
