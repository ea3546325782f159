"""The audit trail (audit.sqlite): ``imports`` and append-only ``events``.

The service writes through :class:`Audit` (aiosqlite); commands and tests read with
aimport.store.auditqueries. Columns are a public contract.

Two ways to write an event: :meth:`Audit.event` (and :meth:`Audit.events`), which waits out trouble with
the audit trail's disk when the audit trail was given a :class:`Patience` (the service's, from
aimport.service.statedisk), like every other write of :class:`Audit`; and :meth:`Audit.try_event`, one
attempt that logs a failure instead of raising (for a retry loop, or a stop that must not wait for space).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import aiosqlite

from aimport.store.auditschema import SCHEMA, migrate

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aimport.importing.outcome import Totals

__all__ = ["Audit", "AuditEvent", "Patience", "instance_name", "now_iso"]
T = TypeVar("T")


def now_iso(at: dt.datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-25T04:24:18.123Z``."""
    at = at or dt.datetime.now(dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class AuditEvent:
    """One audit event to write (:meth:`Audit.events` writes several in one round trip)."""

    kind: str
    import_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)


class Patience(Protocol):
    """Runs the audit write ``op`` until it gets through (``rollback`` after a failed try), waiting out trouble."""

    async def __call__(self, what: str, op: Callable[[], Awaitable[T]],
                       rollback: Callable[[], Awaitable[Any]] | None) -> T: ...


class Audit:
    """Async writer of the audit trail; one connection for the service's life.

    A database deleted or replaced under the running service is noticed (before each write and
    by :meth:`watch`): it is reported, and a new one is opened at the same path with an
    ``audit_trail_recreated`` event. Import keys never depend on it (aimport.service.claims).
    """

    def __init__(self, path: Path, patience: Patience | None = None) -> None:
        self.path = path
        self.patience = patience  # how writes wait out disk trouble; None: one try, errors raised
        self.db: aiosqlite.Connection | None = None
        self.inode: tuple[int, int] | None = None  # the file the connection writes to
        self.last_id = 0  # the highest import id handed out (a recreated trail continues after it)

    async def __aenter__(self) -> Audit:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        lost = not self.path.exists() and (self.path.parent / "claims").is_dir()  # files were claimed here before
        await self._open()
        if lost:
            await self._lost("the audit trail was missing at start-up (deleted after the service stopped)")
        return self

    async def _open(self) -> None:
        if not self.path.exists():  # a write-ahead log left by the deleted database must not be replayed into the new one
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        # autocommit: each write is its own transaction, one round trip to the connection's thread (the
        # writes of several statements below take BEGIN ... COMMIT themselves)
        self.db = await aiosqlite.connect(self.path, timeout=30.0, isolation_level=None)
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.executescript(SCHEMA)
        await self.db.commit()
        await migrate(self.db)
        os.chmod(self.path, 0o644)
        st = os.stat(self.path)
        self.inode = (st.st_dev, st.st_ino)

    def healthy(self) -> bool:
        """True while the database the service writes to is the one at the audit trail's path."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return self.inode == (st.st_dev, st.st_ino)

    async def ensure_current(self) -> None:
        """Notice a deleted or replaced audit database and open (recreate) the one at the path."""
        if self.db is None or self.healthy():
            return
        what = "deleted" if not self.path.exists() else "replaced by another file"
        logger.error(f"the audit trail {self.path} was {what} while the service ran; its history is lost "
                         "(the .result files in History/ keep every outcome); a new audit trail is started there. "
                         "Nothing is imported twice: committed imports are known from the store's ledger")
        old, self.db = self.db, None
        try:
            await old.close()  # the last connection removes the old -wal/-shm
        except (sqlite3.Error, ValueError):
            pass
        try:
            await self._open()
            await self._lost(f"the audit trail was {what} while the service ran")
        except (sqlite3.Error, OSError):
            self.db = old if self.db is None else self.db
            raise

    async def _lost(self, reason: str) -> None:
        async with self._transaction():
            if self.last_id:  # ids of imports still in flight are not handed out again
                await self._db.execute("INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('imports', ?)",
                                       (self.last_id,))
            await self._db.execute("INSERT INTO events (at, import_id, kind, detail) VALUES (?, NULL, ?, ?)",
                                   (now_iso(), "audit_trail_recreated", json.dumps({"reason": reason})))

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """Several statements as one transaction (single writes commit on their own: autocommit)."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            import anyio

            with anyio.CancelScope(shield=True):
                await self._db.rollback()
            raise
        await self._db.commit()

    async def watch(self, interval_s: float = 2.0) -> None:
        """Check every ``interval_s`` that the audit database is still in place (the service runs this)."""
        import anyio

        while True:
            await anyio.sleep(interval_s)
            try:
                await self.ensure_current()
            except (sqlite3.Error, OSError) as exc:
                logger.error(f"cannot recreate the audit trail {self.path}: {exc}; retrying")

    async def __aexit__(self, *exc: object) -> None:
        if self.db is not None:
            await self.db.close()
            self.db = None

    @property
    def _db(self) -> aiosqlite.Connection:
        assert self.db is not None, "Audit used outside its context"
        return self.db

    async def uuid(self) -> str:
        """This audit trail's id; import keys in the system store's ledger are ``<uuid>-<import id>``."""
        await self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        async with self._db.execute("SELECT value FROM meta WHERE key = 'uuid'") as cur:
            row = await cur.fetchone()
        if row:
            return str(row[0])
        value = uuid.uuid4().hex[:12]
        await self._db.execute("INSERT INTO meta (key, value) VALUES ('uuid', ?)", (value,))
        await self._db.commit()
        return value

    async def _write(self, what: str, op: Callable[[aiosqlite.Connection], Awaitable[T]], patient: bool = True) -> T:
        """Every write: ``op`` on the current audit database (:meth:`ensure_current`), through :attr:`patience`
        (waiting out disk trouble) when there is one and ``patient``, else once (errors raised)."""
        async def attempt() -> T:
            await self.ensure_current()
            return await op(self._db)

        if self.patience is None or not patient:
            return await attempt()
        return await self.patience(what, attempt, self._rollback)

    async def _rollback(self) -> None:  # after a failed write: nothing of it may stay pending (written twice)
        if self.db is not None:
            await self.db.rollback()

    async def event(self, kind: str, import_id: int | None = None, **detail: Any) -> None:
        """Record one event, waiting out disk trouble (:meth:`events`)."""
        await self.events(AuditEvent(kind, import_id, detail))

    async def events(self, *events: AuditEvent, patient: bool = True) -> None:
        """Record several events, in this order, in one round trip; waits out disk trouble (:attr:`patience`)."""
        at = now_iso()
        rows = [(at, e.import_id, e.kind, json.dumps(e.detail, default=str, ensure_ascii=False)) for e in events]
        what = f"record the audit event{'s' if len(events) > 1 else ''} {', '.join(e.kind for e in events)}"
        await self._write(what, lambda db: db.executemany(
            "INSERT INTO events (at, import_id, kind, detail) VALUES (?, ?, ?, ?)", rows), patient)

    async def try_event(self, kind: str, import_id: int | None = None, **detail: Any) -> bool:
        """Record one event if the audit trail can be written now (one try); a failure is logged, never raised."""
        try:
            await self.events(AuditEvent(kind, import_id, detail), patient=False)
        except Exception as exc:  # noqa: BLE001 - best effort: the audit trail itself may be the problem
            logger.error(f"cannot record the audit event {kind}: {exc}")
            return False
        return True

    async def start_import(self, import_type: str, file_name: str, size: int | None,
                           detected_at: str, actor: str | None, retry_of: int | None = None) -> int:
        """A new import's row (status in_process; ``retry_of``: the import it retries, aimport.service.retries);
        returns its id. Waits out disk trouble, as every write."""
        cur = await self._write(f"record the claim of {file_name}", lambda db: db.execute(
            "INSERT INTO imports (import_type, file_name, size_bytes, status, detected_at, started_at, actor, instance, "
            "retry_of) VALUES (?, ?, ?, 'in_process', ?, ?, ?, ?, ?)",
            (import_type, file_name, size, detected_at, now_iso(), actor, instance_name(), retry_of)))
        self.last_id = max(self.last_id, int(cur.lastrowid or 0))
        return int(cur.lastrowid or 0)

    async def record_cancelled(self, import_type: str, file_name: str, size: int, history_name: str,
                               actor: str | None) -> int:
        """The row of a file cancelled before it was imported (aimport.service.cancels): status cancelled, nothing
        counted; returns its id."""
        at = now_iso()
        cur = await self._write(f"record the cancel of {file_name}", lambda db: db.execute(
            "INSERT INTO imports (import_type, file_name, history_name, size_bytes, status, rows, created, updated, "
            "deleted, rejected, unchanged, detected_at, started_at, finished_at, duration_ms, actor, instance) "
            "VALUES (?, ?, ?, ?, 'cancelled', 0, 0, 0, 0, 0, 0, ?, ?, ?, 0, ?, ?)",
            (import_type, file_name, history_name, size, at, at, at, actor, instance_name())))
        self.last_id = max(self.last_id, int(cur.lastrowid or 0))
        return int(cur.lastrowid or 0)

    async def set_history(self, import_id: int, history_name: str) -> None:
        await self._write(f"record the History name {history_name}", lambda db: db.execute(
            "UPDATE imports SET history_name = ? WHERE id = ?", (history_name, import_id)))

    async def finish_import(self, import_id: int, status: str, error_code: str | None, sha256: str | None,
                            totals: Totals | None, duration_ms: int) -> None:
        """Close the import's row; ``totals`` None: no rows were counted (all counts 0)."""
        counts = (totals.rows, totals.created, totals.updated, totals.deleted, totals.rejected,
                  totals.unchanged) if totals else (0, 0, 0, 0, 0, 0)
        await self._write(f"record the outcome of import {import_id}", lambda db: db.execute(
            "UPDATE imports SET status=?, error_code=?, sha256=?, rows=?, created=?, updated=?, deleted=?, "
            "rejected=?, unchanged=?, finished_at=?, duration_ms=? WHERE id=?",
            (status, error_code, sha256, *counts, now_iso(), duration_ms, import_id)))

    async def history_name(self, import_id: int) -> str:
        async with self._db.execute("SELECT history_name FROM imports WHERE id = ?", (import_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row and row[0] else ""

    async def is_open(self, import_id: int) -> bool:
        async with self._db.execute("SELECT status FROM imports WHERE id = ?", (import_id,)) as cur:
            row = await cur.fetchone()
        return row is not None and row[0] in ("queued", "in_process")

    async def claim_key(self, import_id: int) -> str:
        """The claim key recorded with an import's ``claimed`` event ('' for imports claimed before keys)."""
        async with self._db.execute("SELECT json_extract(detail, '$.key') FROM events WHERE import_id = ? "
                                    "AND kind = 'claimed' ORDER BY id DESC LIMIT 1", (import_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row and row[0] else ""

    async def open_imports(self) -> list[dict[str, Any]]:
        """Imports not finished (candidates for recovery)."""
        self._db.row_factory = aiosqlite.Row
        try:
            async with self._db.execute(
                "SELECT * FROM imports WHERE status IN ('queued','in_process') ORDER BY id"
            ) as cur:
                return [dict(r) for r in await cur.fetchall()]
        finally:
            self._db.row_factory = None

    async def prune(self, days: int) -> int:
        """Delete finished imports and events older than ``days`` (never in-flight ones)."""
        cutoff = now_iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
        async with self._transaction():
            cur = await self._db.execute(
                "DELETE FROM imports WHERE status NOT IN ('queued','in_process') AND COALESCE(finished_at, started_at) < ?",
                (cutoff,),
            )
            await self._db.execute(
                "DELETE FROM events WHERE at < ? AND (import_id IS NULL OR import_id NOT IN "
                "(SELECT id FROM imports WHERE status IN ('queued','in_process')))",
                (cutoff,),
            )
        return cur.rowcount
