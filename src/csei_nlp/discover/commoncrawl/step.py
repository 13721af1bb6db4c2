"""The Common Crawl step of a discovery run: select -> fetch by range -> WARC shards -> state.

Why this order: a record counts as fetched only once its bytes are on disk.
Records are fetched in batches of ``records_per_warc``; each batch becomes one
gzipped WARC file in ``<state>/crawls/`` (``cc-<run id>-<kind>-<n>.warc.gz``:
a warcinfo record written by warcio, then the records' gzip members exactly as
Common Crawl stores them), written to a temporary name and renamed, and only
then recorded in the job's ``cc_records`` table in one transaction.  The WARC
files are ordinary inputs of the job: the run's planning step finds them and
scans them incrementally like any crawl.  A run killed between the rename and
the transaction fetches that batch again next time (its documents keep the
same ids inside each file; nothing is lost).

Nothing is fetched twice: the selection leaves out every (warc_filename,
offset, length) the state holds as fetched.  A record that still fails after
its retries is written to ``<state>/failures.jsonl`` with its reason and kept
in the state: a later run asks for it again when the reason was transient
(5xx, 429, timeout, network, short read) and never when a retry cannot help
(404, 403, a refused or ignored range, corrupt bytes).

Host expansion (:func:`expand_hosts`): each site whose Common Crawl pages made
a candidate at or above the job's ``min_score`` is expanded once, with up to
``expand_per_host`` more of its pages from the index.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...fsutil import atomic_open, locked_append
from ...store.ccindex import CCIndex, IndexRecord, columns_bytes
from ...store.jobs import CCOutcome
from ..job import Job
from ..state import StateDB
from .fetch import FetchSettings, Fetched, fetch_all, fetch_ray, source_of
from .select import expansion_pattern, index_filter


def settings_of(job: Job) -> FetchSettings:
    cc = job.commoncrawl
    assert cc is not None
    return FetchSettings(concurrency=cc.concurrency, requests_per_s=cc.requests_per_s, retries=cc.retries,
                         backoff_s=cc.backoff_s, timeout_s=cc.timeout_s, user_agent=job.crawl.user_agent)


def open_index(job: Job) -> CCIndex:
    assert job.commoncrawl is not None
    return CCIndex(job.commoncrawl.index, origin=f"{job.path}: [inputs.commoncrawl] index")


def fetch_selection(job: Job, state: StateDB, run_id: str, *, engine: str = "local",
                    address: str | None = None, log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Select the job's new records from the index and fetch them into WARC files; counts."""
    with open_index(job) as index:
        records = index.select(index_filter(job), exclude=state.cc_skip_keys())
    log(f"common crawl: {len(records)} new records selected")
    return _fetch_into_warcs(job, state, run_id, records, "select", engine=engine, address=address, log=log)


def expand_hosts(job: Job, state: StateDB, run_id: str, candidates: list[dict[str, Any]], *,
                 engine: str = "local", address: str | None = None,
                 log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """More pages of each not yet expanded site that yields a candidate; counts (``records`` 0: nothing new)."""
    cc = job.commoncrawl
    if cc is None or not cc.expand_per_host:
        return {"sites": 0, "records": 0}
    ours = state.cc_fetched_sites() - state.cc_expanded_sites()
    sites = sorted({c["site"] for c in candidates
                    if c.get("site") in ours and float(c.get("score") or 0) >= job.min_score})
    if not sites:
        return {"sites": 0, "records": 0}
    with open_index(job) as index:
        records = index.host_pages(sites, cc.expand_per_host, expansion_pattern(), exclude=state.cc_skip_keys())
    log(f"common crawl: {len(records)} more pages of {len(sites)} candidate sites")
    counts = _fetch_into_warcs(job, state, run_id, records, "expand", engine=engine, address=address, log=log)
    per_site = {s: 0 for s in sites}
    for r in records:
        per_site[r.site] += 1
    state.cc_mark_expanded(per_site, run_id)
    return {"sites": len(sites), **counts}


def _fetch_into_warcs(job: Job, state: StateDB, run_id: str, records: list[IndexRecord], kind: str, *,
                      engine: str, address: str | None, log: Callable[[str], None]) -> dict[str, Any]:
    cc = job.commoncrawl
    assert cc is not None
    counts: dict[str, Any] = {"records": len(records), "fetched": 0, "failed": 0, "bytes": 0, "requests": 0,
                              "warcs": []}
    if not records:
        return counts
    settings = settings_of(job)
    results: Iterable[Fetched] = (fetch_ray(cc.warc_prefix, records, settings, address=address)
                                  if engine == "ray" else fetch_all(cc.warc_prefix, records, settings))
    batch: list[Fetched] = []
    for res in results:
        batch.append(res)
        if len(batch) >= cc.records_per_warc:
            _commit(job, state, run_id, kind, batch, counts, log)
            batch = []
    if batch:
        _commit(job, state, run_id, kind, batch, counts, log)
    return counts


def _commit(job: Job, state: StateDB, run_id: str, kind: str, batch: list[Fetched], counts: dict[str, Any],
            log: Callable[[str], None]) -> None:
    """Write the batch's records to a new WARC file, then record the batch in the state."""
    assert job.commoncrawl is not None
    ok = [b for b in batch if b.ok]
    warc = _next_warc(job.crawl_dir, run_id, kind) if ok else None
    if warc is not None:
        write_warc(warc, ok, {"software": "csei-nlp discover (Common Crawl byte ranges)",
                              "format": "WARC File Format 1.1", "job": job.name, "run": run_id,
                              "source": job.commoncrawl.warc_prefix})
    failed = [b for b in batch if not b.ok]
    if failed:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        lines = "".join(json.dumps({
            "run_id": run_id, "time": now, "source": source_of(job.commoncrawl.warc_prefix, b.record),
            "url": b.record.url, "warc_filename": b.record.warc_filename, "offset": b.record.offset,
            "length": b.record.length, "status": "failed", "reason": b.reason, "attempts": b.attempts,
            "retry_next_run": b.retry_later, "message": b.message}, ensure_ascii=False) + "\n" for b in failed)
        locked_append(job.state_dir / "failures.jsonl", lines.encode("utf-8"))
    state.cc_record([CCOutcome(b.record.warc_filename, b.record.offset, b.record.length, b.record.url,
                               b.record.site, kind, "fetched" if b.ok else "failed", b.reason, b.retry_later,
                               b.attempts, warc.name if (warc is not None and b.ok) else "") for b in batch],
                    run_id)
    counts["fetched"] += len(ok)
    counts["failed"] += len(failed)
    counts["bytes"] += sum(b.record.length for b in ok)
    counts["requests"] += sum(b.attempts for b in batch)
    if warc is not None:
        counts["warcs"].append(warc.name)
    log(f"common crawl: {len(ok)} records into {warc.name if warc else '(no file)'}, {len(failed)} failed")


def _next_warc(folder: Path, run_id: str, kind: str) -> Path:
    n = len(list(folder.glob(f"cc-{run_id}-{kind}-*.warc.gz"))) if folder.is_dir() else 0
    return folder / f"cc-{run_id}-{kind}-{n:04d}.warc.gz"


def write_warc(path: Path, fetched: list[Fetched], info: dict[str, str]) -> None:
    """A warcinfo record, then each record's gzip member as fetched; the file appears when complete."""
    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", encoding=None) as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for f in fetched:
            assert f.data is not None
            fh.write(f.data)


# --- csei cc preview -------------------------------------------------------------------------

def preview(job: Job, samples: int = 10) -> dict[str, Any]:
    """What the next run would fetch, without fetching: counts by TLD and language, bytes, sample URLs."""
    skip: list[tuple[str, int, int]] = []
    if (job.state_dir / "state.sqlite").exists():
        st = StateDB(job.state_dir)
        try:
            skip = st.cc_skip_keys()
        finally:
            st.close()
    with open_index(job) as index:
        f = index_filter(job)
        out = index.summary(f, exclude=skip, samples=samples)
        used, total = columns_bytes(index.files)
        out.update({"index_files": len(index.files), "index_bytes": total, "index_columns_bytes": used,
                    "already_done": len(skip), "max_records": f.limit, "url_pattern": f.url_pattern})
    return out


def render_preview(job: Job, p: dict[str, Any]) -> str:
    def mb(n: int) -> str:
        return f"{n / 1e6:,.1f} MB"

    lines = [f"job {job.name}: Common Crawl selection (nothing fetched)",
             f"  index: {p['index_files']} Parquet files"
             + (f", {mb(p['index_bytes'])} local, of which the selection reads at most "
                f"{mb(p['index_columns_bytes'])} (its columns)" if p["index_bytes"] else ""),
             f"  records to fetch: {p['records']:,} from {p['hosts']:,} sites, {mb(p['bytes'])}"
             + (f" (capped at max_records = {p['max_records']:,})" if p["max_records"]
                and p["records"] >= p["max_records"] else "")
             + (f"; {p['already_done']:,} fetched or failed for good before, left out" if p["already_done"]
                else ""),
             "  by TLD:      " + ", ".join(f"{t} {n:,}" for t, n in p["by_tld"][:15]),
             "  by language: " + ", ".join(f"{l} {n:,}" for l, n in p["by_language"][:15]),
             "  by MIME:     " + ", ".join(f"{m} {n:,}" for m, n in p["by_mime"]),
             "  sample URLs:"]
    lines += [f"    {u}" for u in p["samples"]]
    return "\n".join(lines) + "\n"
