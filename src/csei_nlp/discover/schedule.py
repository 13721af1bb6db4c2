"""``csei schedule``: run discovery jobs in-process on cron expressions (APScheduler).

Why: not every machine an analyst gets has cron or systemd timers they may
edit (a container, a shared server).  This keeps one long-running process that
fires each job on its cron schedule; two firings of one job never overlap
(``max_instances=1`` here, and the job lock across processes).  The cron and
systemd-timer equivalents are in docs/discover.md.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .cron import parse_cron


def make_scheduler(job_files: list[str | Path], cron: str | None = None, *, run_now: bool = False,
                   once: bool = False, verbose: bool = False,
                   runner: Callable[[Path], int] | None = None) -> Any:
    """A ``BlockingScheduler`` with one entry per job file (its ``[schedule] cron`` unless ``cron``).

    ``run_now`` adds an immediate firing; ``once`` stops the scheduler after the first
    firing of every job has finished (for smoke tests and one-off runs under a supervisor).
    ``runner(job_path) -> exit code`` defaults to running the job with :func:`run_job`.
    """
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from apscheduler.schedulers.blocking import BlockingScheduler

    from .job import load_job

    jobs = [load_job(p) for p in job_files]  # fail fast on every file before starting
    if not jobs:
        raise ConfigError("csei schedule: give at least one --job FILE")
    sched = BlockingScheduler(timezone=jobs[0].timezone)
    run = runner or (lambda path: _run_file(path, verbose))
    sched.csei_results = {}  # type: ignore[attr-defined]
    for job in jobs:
        trig = parse_cron(cron or job.cron, job.timezone, origin="--cron" if cron else f"{job.path}: [schedule] cron")
        kwargs: dict[str, Any] = {"id": job.name, "name": job.name, "max_instances": 1, "coalesce": True,
                                  "misfire_grace_time": 3600}
        if run_now:
            kwargs["next_run_time"] = datetime.now(trig.timezone)
        sched.add_job(run, trig, args=[job.path], **kwargs)
    if once:
        pending = {j.name for j in jobs}

        def _done(event: Any) -> None:
            sched.csei_results[event.job_id] = event.retval if event.exception is None else event.exception
            pending.discard(event.job_id)
            if not pending:
                sched.shutdown(wait=False)

        sched.add_listener(_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    return sched


def _run_file(path: Path, verbose: bool) -> int:
    from .runner import run_job_file

    code, res = run_job_file(path, prog="csei schedule", verbose=verbose)
    if res is not None and res.exit_code:
        print(f"csei schedule: {path}: run {res.run_id} {res.status}: {res.message}", file=sys.stderr)
    return code
