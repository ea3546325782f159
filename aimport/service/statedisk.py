"""Trouble with the state disk (audit trail, store): audit writes that wait it out instead of failing.

An audit write that fails with an environment error (disk full, I/O error, locked) is retried with
backoff (1 s doubling to 60 s) until it is written; meanwhile :class:`StateDisk` holds the problem,
``/readyz`` reports it and the log says what to do, once per distinct problem.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aimport import servicelog
from aimport.backoff import MAX_DELAY_S, Backoff
from aimport.store.audit import Event

T = TypeVar("T")
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}
SQLITE_TROUBLE = ("disk is full", "disk i/o", "locked", "busy", "unable to open", "readonly", "read-only")


def is_disk_trouble(exc: BaseException) -> bool:
    """An error about the state disk (worth waiting out), not about the data in it."""
    if isinstance(exc, OSError):
        return exc.errno in DISK_ERRNOS
    return isinstance(exc, sqlite3.OperationalError) and any(m in str(exc).lower() for m in SQLITE_TROUBLE)


@dataclass
class StateDisk:
    """The state disk's condition as the service last saw it."""

    path: Path | None = None  # the state folder (its free space tells a full disk from other trouble)
    problem: str = ""  # empty while audit writes get through
    since: float = 0.0

    @property
    def full(self) -> bool:
        return "full" in self.problem.lower() or "no space" in self.problem.lower()

    def trouble(self, problem: str) -> bool:
        """Note ``problem``; True when it is new (to be logged)."""
        new = problem != self.problem
        if not self.problem:
            self.since = time.monotonic()
        self.problem = problem
        return new

    def clear(self) -> bool:
        was = bool(self.problem)
        self.problem = ""
        return was


FULL_BELOW_BYTES = 1 << 20


def describe(exc: BaseException, path: Path | None = None) -> str:
    text = str(exc)
    full = "full" in text.lower() or "no space" in text.lower()
    if not full and path is not None:
        try:
            full = shutil.disk_usage(path).free < FULL_BELOW_BYTES
        except OSError:
            pass
    if full:
        return f"the state disk is full ({text}): free space on it; aimport goes on by itself when there is room"
    return f"the state disk cannot be written ({text}): check it; aimport goes on by itself when it can write again"


async def patiently(disk: StateDisk, what: str, op: Callable[[], Awaitable[T]],
                    rollback: Callable[[], Awaitable[Any]] | None = None,
                    retry_if: Callable[[BaseException], bool] | None = None) -> T:
    """Run the audit write ``op`` until it gets through, waiting with backoff while the state disk is in trouble.

    ``retry_if`` narrows which errors are waited out (default: every SQLite or OS error).
    """
    backoff = Backoff()
    while True:
        try:
            result = await op()
        except (sqlite3.Error, OSError) as exc:
            if retry_if is not None and not retry_if(exc):
                raise
            if rollback is not None:  # a failed commit may leave its insert pending: never write it twice
                try:
                    await rollback()
                except (sqlite3.Error, OSError):
                    pass
            problem = describe(exc, disk.path)
            if disk.trouble(problem):
                servicelog.get().error(f"cannot {what}: {problem}; retrying in {backoff.delay:g}s (then every {MAX_DELAY_S:g}s at most)")
            await backoff.wait()
            continue
        if disk.clear():
            servicelog.get().info(f"the state disk is writable again (could {what})")
        return result


async def event(disk: StateDisk, audit: Any, kind: str, import_id: int | None = None, **detail: Any) -> None:
    """``audit.event`` through :func:`patiently`."""
    await events(disk, audit, Event(kind, import_id, detail))


@asynccontextmanager
async def opened_audit(disk: StateDisk, audit: Any) -> AsyncIterator[Any]:
    """``async with audit`` that waits out a full state disk while opening (a start on a full disk waits)."""
    await patiently(disk, "open the audit trail", audit.__aenter__,
                    lambda: audit.__aexit__(None, None, None), retry_if=is_disk_trouble)
    try:
        yield audit
    finally:
        await audit.__aexit__(None, None, None)


async def events(disk: StateDisk, audit: Any, *events: Event) -> None:
    """``audit.events`` (several events in one round trip) through :func:`patiently`."""
    db = getattr(audit, "db", None)
    what = f"record the audit event{'s' if len(events) > 1 else ''} {', '.join(e.kind for e in events)}"
    await patiently(disk, what, lambda: audit.events(*events), db.rollback if db is not None else None)
