"""Crontab expressions -> APScheduler triggers, with cron's weekday numbering.

A leaf module: job files validate their ``[schedule] cron`` with it and the
scheduler builds its triggers with it, without either importing the other.
"""
from __future__ import annotations

from datetime import datetime
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
    """The next ``n`` firings of ``expr`` after ``start`` (for showing a schedule)."""
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
