"""An exclusive, crash-safe lock for one discovery job.

Why: cron fires every week whether or not last week's run has finished, and
two runs of one job writing the same state would corrupt it.  The lock is a
POSIX record lock (``fcntl.lockf``) on ``<state>/lock``.  The kernel drops it
when the holding process dies, even by SIGKILL, and -- unlike ``flock`` -- the
worker processes a run forks do not inherit it, so orphaned workers cannot keep
a dead run's lock alive.  The file also records pid, host and start time: a
second run reports who holds the lock, and a run that finds the record of a
process that no longer holds it reports that it took over a stale lock.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import CseiError


class LockedError(CseiError):
    """Another run of the same job holds the lock."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path, self.holder = path, holder
        who = (f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
               if holder else "another process")
        super().__init__(f"{path}: another run of this job is in progress ({who}); not starting a second one")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobLock:
    """``with JobLock(state_dir) as lock:`` -- raises :class:`LockedError` when held."""

    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / "lock"
        self.fd: int | None = None
        self.stale: dict[str, Any] | None = None  # the record of a dead holder we took over

    def _read(self, fd: int) -> dict[str, Any]:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        try:
            rec = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            rec = {}
        return rec if isinstance(rec, dict) else {}

    def acquire(self) -> "JobLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._read(fd)
            os.close(fd)
            raise LockedError(self.path, holder) from None
        previous = self._read(fd)
        if previous.get("pid"):
            # The lock was free but a record was left: its holder died without releasing.
            alive = previous.get("host") == socket.gethostname() and _pid_alive(int(previous["pid"]))
            self.stale = dict(previous, alive=alive)
        rec = {"pid": os.getpid(), "host": socket.gethostname(),
               "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(rec).encode("utf-8"), 0)
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)  # an empty file means "released cleanly"
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "JobLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
