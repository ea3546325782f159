"""Advisory file locks (``flock``): who holds a claimed file, whose turn it is to write the store, which
process owns a directory.

A claimed file is locked by the process importing it until it is archived, so another
instance's start-up recovery leaves it alone (:func:`try_lock`, :func:`held`); imports take
the system store's write turn through a blocking lock on a file next to it (:func:`turn`); a
service owns its state directory through a lock file that records its pid (:func:`own`,
:func:`owner`). The kernel lets go of every one of them when its process ends, however it ends
(kill -9 too): a dead process never keeps a lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Owned", "held", "own", "owner", "release", "try_lock", "turn"]

LOOK_S = 1.0  # how long :func:`own` tries: another process's :func:`owner` holds the lock for a moment


def try_lock(path: Path) -> tuple[int | None, bool]:
    """Open ``path`` and take an exclusive advisory lock without waiting: ``(fd, held_elsewhere)``.

    ``fd`` is None when the file cannot be opened or locked (gone, unreadable, no lock
    support on the file system); ``held_elsewhere`` is True when another process holds it.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None, False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, False
    except OSError as exc:
        os.close(fd)
        return None, isinstance(exc, BlockingIOError)


def release(fd: int | None) -> None:
    """Let go of a lock taken by :func:`try_lock` (None: nothing was held)."""
    if fd is not None:
        os.close(fd)


@contextmanager
def held(path: Path, fd: int | None = None) -> Iterator[None]:
    """Hold the lock on ``path`` (``fd``, an already taken lock, or taken now) until the block ends."""
    if fd is None:
        fd, _ = try_lock(path)
    try:
        yield
    finally:
        release(fd)


@contextmanager
def turn(lock_file: Path) -> Iterator[None]:
    """Wait until this process holds the exclusive lock on ``lock_file`` (created if missing), for the block."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Owned(Exception):
    """The lock file is held by another live process: ``pid`` (0 when it recorded none)."""

    def __init__(self, path: Path, pid: int) -> None:
        super().__init__(f"{path} is locked by {'process ' + str(pid) if pid else 'another process'}")
        self.path, self.pid = path, pid


def own(lock_file: Path) -> int:
    """Take the exclusive lock on ``lock_file`` (created if missing) and record this process's pid in it.

    Returns the descriptor that holds it (until it is closed or the process ends). Raises :class:`Owned`
    when another process holds it, OSError when the file system has no locks.
    """
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + LOOK_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                pid = _recorded(fd)
                os.close(fd)
                raise Owned(lock_file, pid) from None
            time.sleep(0.05)
        except OSError:
            os.close(fd)
            raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def owner(lock_file: Path) -> int | None:
    """The pid recorded by the live process holding ``lock_file`` (:func:`own`), 0 when it recorded none; None
    when no process holds it (or there is no such file). The lock itself decides, not the pid: a pid may be
    reused, or belong to another PID namespace (a container)."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # for a moment only (own() waits that long)
    except BlockingIOError:
        return _recorded(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    return None


def _recorded(fd: int) -> int:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0
