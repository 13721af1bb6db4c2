"""Atomic file writes: the one place that writes a temp file and renames it.

A reader (another process, a crash, a browser refresh) sees either the old
file or the complete new one, never a half-written file:

1. the data goes to a uniquely named temp file in the *same* directory (a
   rename is only atomic within one file system), created with the ordinary
   permissions (0666 less the umask, as ``open`` would);
2. it is flushed and ``fsync``-ed, then ``os.replace``-d over the target;
3. the directory is ``fsync``-ed so that the rename itself survives a crash.

If anything fails before the rename, the temp file is removed and the old
file is left as it was.

Append-only files (the annotation log, the decisions file) grow by
:func:`locked_append` instead: one write per record, under an exclusive
``flock``, flushed and ``fsync``-ed, so concurrent writers never interleave
lines.  This module is a leaf: it imports nothing from the package.
"""
from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def fsync_dir(path: str | Path) -> None:
    """fsync a directory (makes a rename in it durable); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temp file that replaces it on a clean exit.

    ``mode`` is ``"w"`` (text, ``encoding``/``newline`` as for ``open``) or ``"wb"``.
    On an exception inside the block the temp file is removed, the target is
    untouched, and the exception propagates.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        if mode == "wb":
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Replace ``path`` with ``text`` atomically (see the module docstring)."""
    with atomic_open(path, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see the module docstring)."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


@contextmanager
def exclusive_lock(lock: str | Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the file ``lock`` (created if missing) for the ``with`` block.

    For a file that is both appended to and replaced whole: appenders and the
    replacer take the same separate lock file (see :func:`locked_append`).
    """
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def locked_append(path: str | Path, data: bytes, *, lock: str | Path | None = None) -> None:
    """Append ``data`` to ``path`` (created if missing) in one write, fsync-ed, under an exclusive flock.

    Writers on several threads or processes take the lock for the duration of
    one write, so their records never interleave.  ``lock`` names a separate
    lock file: needed when the file may also be replaced whole by
    :func:`atomic_open` (a compaction), since a lock on the old file would not
    stop a writer appending to a file that has just been renamed away.  The
    target is opened only once the lock is held, so the append lands in the
    file that is current then.
    """
    if lock is not None:
        with exclusive_lock(lock):
            _append(Path(path), data, lock_target=False)
    else:
        _append(Path(path), data, lock_target=True)


def _append(path: Path, data: bytes, lock_target: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if lock_target:
            fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:  # os.write may write less than asked (a signal, a full pipe): finish the record
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases a lock taken on fd
