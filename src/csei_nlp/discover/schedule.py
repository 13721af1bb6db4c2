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


_DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _cron_weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) as names: APScheduler 3 numbers them from
    Monday = 0, so "0 3 * * 1" passed through unchanged would fire on Tuesdays."""
    def name(tok: str) -> str:
        if tok.isdigit():
            n = int(tok)
            if n > 7:
                raise ValueError(f"weekday {n} is out of range 0-7")
            return _DOW[n]
        return tok

    out = []
    for part in field.split(","):
        rng, _, step = part.partition("/")
        rng = "-".join(name(t) for t in rng.split("-"))
        out.append(rng + (f"/{step}" if step else ""))
    return ",".join(out)


def parse_cron(expr: str, timezone: str = "UTC", origin: str = "--cron") -> Any:
    """A five-field crontab expression (cron's meaning, Sunday = 0 or 7) -> APScheduler
    ``CronTrigger``; ConfigError if invalid."""
    from apscheduler.triggers.cron import CronTrigger

    if not isinstance(expr, str) or len(expr.split()) != 5:
        raise ConfigError(f"{origin}: expected five cron fields 'minute hour day month weekday', got {expr!r}")
    minute, hour, day, month, dow = expr.split()
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(dow),
                           timezone=timezone)
    except (ValueError, LookupError) as exc:
        raise ConfigError(f"{origin}: invalid cron expression or time zone {expr!r} ({timezone}): {exc}") from None
    except Exception as exc:  # noqa: BLE001 - zoneinfo raises its own error types for unknown zones
        raise ConfigError(f"{origin}: invalid time zone {timezone!r}: {exc}") from None


def next_fire_times(expr: str, start: datetime, n: int = 3, timezone: str = "UTC") -> list[datetime]:
    trig = parse_cron(expr, timezone)
    out: list[datetime] = []
    prev = None
    now = start
    for _ in range(n):
        nxt = trig.get_next_fire_time(prev, now)
        if nxt is None:
            break
        out.append(nxt)
        prev, now = nxt, nxt
    return out


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
    from .job import load_job
    from .lock import LockedError
    from .runner import EXIT_CONFIG, EXIT_LOCKED, run_job

    try:
        res = run_job(load_job(path), verbose=verbose)
    except LockedError as exc:
        print(f"csei schedule: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ConfigError as exc:
        print(f"csei schedule: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if res.exit_code:
        print(f"csei schedule: {path}: run {res.run_id} {res.status}: {res.message}", file=sys.stderr)
    return res.exit_code
