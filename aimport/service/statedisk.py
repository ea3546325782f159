"""Trouble with the state disk (audit trail, store): audit writes that wait it out instead of failing.

The service opens its audit trail with :func:`opened_audit`, which gives it :func:`patience`: from then on
every write of the audit trail (``audit.event`` and the import rows) that fails is retried with backoff
(1 s doubling to 60 s) until it is written; meanwhile :class:`StateDisk` holds the problem, ``/readyz``
reports it and the log says what to do, once per distinct problem. What the problem is (a full disk or
another) comes from :func:`aimport.errors.cause_of`, never from an error's text.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aimport.errors import Cause, cause_of, environment_trouble
from aimport.service.backoff import MAX_DELAY_S, Backoff
from aimport.store.audit import Audit, Patience

logger = logging.getLogger(__name__)

__all__ = ["FULL_BELOW_BYTES", "StateDisk", "describe", "disk_full", "opened_audit", "patience",
           "patiently"]

T = TypeVar("T")
FULL_BELOW_BYTES = 1 << 20


@dataclass
class StateDisk:
    """The state disk's condition as the service last saw it."""

    path: Path | None = None  # the state folder (its free space tells a full disk from other trouble)
    problem: str = ""  # empty while audit writes get through
    since: float = 0.0
    full: bool = False  # the problem is a full disk

    def trouble(self, problem: str, full: bool = False) -> bool:
        """Note ``problem``; True when it is new (to be logged)."""
        new = problem != self.problem
        if not self.problem:
            self.since = time.monotonic()
        self.problem, self.full = problem, full
        return new

    def clear(self) -> bool:
        was = bool(self.problem)
        self.problem, self.full = "", False
        return was


def disk_full(exc: BaseException, path: Path | None = None) -> bool:
    """``exc`` says the disk is full, or (SQLite may say only "disk I/O error") the disk at ``path`` has no room."""
    if cause_of(exc) is Cause.FULL:
        return True
    if path is None:
        return False
    try:
        return shutil.disk_usage(path).free < FULL_BELOW_BYTES
    except OSError:
        return False


def describe(exc: BaseException, path: Path | None = None) -> str:
    """What the log and ``/readyz`` say about ``exc`` and what to do."""
    if disk_full(exc, path):
        return f"the state disk is full ({exc}): free space on it; aimport goes on by itself when there is room"
    return f"the state disk cannot be written ({exc}): check it; aimport goes on by itself when it can write again"


async def patiently(disk: StateDisk, what: str, op: Callable[[], Awaitable[T]],
                    rollback: Callable[[], Awaitable[Any]] | None = None,
                    retry_if: Callable[[BaseException], bool] | None = None) -> T:
    """Run the write ``op`` until it gets through, waiting with backoff while the state disk is in trouble.

    ``retry_if`` narrows which errors are waited out (default: every SQLite or OS error: the service cannot go
    on without its record; at start-up :func:`aimport.errors.environment_trouble`, so a damaged audit trail
    stops the start with its error instead).
    """
    backoff = Backoff()
    while True:
        try:
            result = await op()
        except (sqlite3.Error, OSError) as exc:
            if retry_if is not None and not retry_if(exc):
                raise
            if rollback is not None:
                try:
                    await rollback()
                except (sqlite3.Error, OSError):
                    pass
            if disk.trouble(describe(exc, disk.path), disk_full(exc, disk.path)):
                logger.error(f"cannot {what}: {disk.problem}; retrying in {backoff.delay:g}s "
                                       f"(then every {MAX_DELAY_S:g}s at most)")
            await backoff.wait()
            continue
        if disk.clear():
            logger.info(f"the state disk is writable again (could {what})")
        return result


def patience(disk: StateDisk) -> Patience:
    """The audit trail's way of writing in the service: :func:`patiently`, noting trouble in ``disk``."""
    async def wait(what: str, op: Callable[[], Awaitable[T]], rollback: Callable[[], Awaitable[Any]] | None) -> T:
        return await patiently(disk, what, op, rollback)

    return wait


@asynccontextmanager
async def opened_audit(disk: StateDisk, audit: Audit) -> AsyncIterator[Audit]:
    """``async with audit`` that waits out a full state disk while opening (a start on a full disk waits); the
    audit trail then writes with :func:`patience`."""
    await patiently(disk, "open the audit trail", audit.__aenter__,
                    lambda: audit.__aexit__(None, None, None), retry_if=environment_trouble)
    audit.patience = patience(disk)
    try:
        yield audit
    finally:
        await audit.__aexit__(None, None, None)
