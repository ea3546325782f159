"""Advisory file locks (``flock``): who holds a claimed file, and whose turn it is to write the store.

A claimed file is locked by the process importing it until it is archived, so another
instance's start-up recovery leaves it alone (:func:`try_lock`, :func:`held`); imports take
the system store's write turn through a blocking lock on a file next to it (:func:`turn`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["held", "release", "try_lock", "turn"]


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
