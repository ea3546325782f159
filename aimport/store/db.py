"""One connection to the system store, whichever backend holds it: SQLite (the embedded default) or PostgreSQL.

The store modules (:mod:`aimport.store.system`, :mod:`aimport.store.campaigns`, :mod:`aimport.store.schema`)
write their SQL once, with ``?`` placeholders and the syntax both databases share (``ON CONFLICT``,
``RETURNING``, partial indexes); :class:`Db` carries it to the driver and owns what differs: how to
connect, how a write transaction takes the store's write turn, bulk loading (``COPY`` on PostgreSQL),
and which driver errors mean "the store is not reachable" (:class:`StoreUnavailable`) or "run the
transaction again" (:class:`StoreRetry`, a deadlock or serialization failure).

Nothing outside ``aimport/store`` runs SQL against the system store.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from aimport import filelock
from aimport.errors import store_trouble

__all__ = [
    "Db",
    "StoreAddress",
    "StoreError",
    "StoreFailure",
    "StoreRetry",
    "StoreUnavailable",
    "is_postgresql",
    "open_db",
    "redact",
    "retry_count",
    "store_exists",
    "with_retries",
]

StoreAddress = Path | str  # a SQLite file, or a postgresql:// URL
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

PASSWORD_ENV = "AIMPORT_STORE_PASSWORD"
WRITE_TURN_KEY = 0x61696D70  # "aimp": the advisory lock every import's write transaction takes on PostgreSQL
RETRY_LIMIT = 8


class StoreError(Exception):
    """Any error the system store's driver reported, on either backend (the message never holds a password)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or written; ``transient``: about the environment (it may pass by waiting)."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class StoreRetry(StoreError):
    """The database gave up this transaction to keep others correct (deadlock, serialization): run it again."""


class StoreFailure(StoreError):
    """The store refused a statement (a constraint, or a bug): not the environment, not worth retrying."""


_retries = 0
_retries_lock = threading.Lock()


def retry_count() -> int:
    """Transactions run again in this process since it started (a counter for /metrics)."""
    return _retries


def with_retries(db: Db, work: Callable[[], T], limit: int = RETRY_LIMIT) -> T:
    """Run ``work`` (one whole transaction on ``db``) again after a :class:`StoreRetry`, rolled back each time."""
    global _retries
    for attempt in range(limit):
        try:
            return work()
        except StoreRetry:
            db.rollback()
            with _retries_lock:
                _retries += 1
            if attempt == limit - 1:
                raise StoreUnavailable(f"the transaction was given up {limit} times in a row (deadlock or "
                                       "serialization failure)") from None
            time.sleep(min(0.05 * 2 ** attempt, 2.0))
    raise AssertionError("unreachable")


def is_postgresql(address: StoreAddress) -> bool:
    return isinstance(address, str) and address.startswith(("postgresql://", "postgres://"))


def store_exists(address: StoreAddress) -> bool:
    """Whether there is a store to read: a SQLite file that exists, or any PostgreSQL URL (connecting tells)."""
    return is_postgresql(address) or Path(address).exists()


def redact(address: StoreAddress) -> str:
    """The address for logs and messages: a password in the URL is replaced by ``***``."""
    if not is_postgresql(address):
        return str(address)
    parts = urlsplit(str(address))
    if parts.password is None:
        return str(address)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def open_db(address: StoreAddress, timeout: float = 60.0) -> Db:
    """Connect to the store at ``address`` (no schema check: see :func:`aimport.store.schema.open_store`)."""
    if is_postgresql(address):
        return _PgDb(str(address), timeout)
    return _SqliteDb(Path(address), timeout)


class Db:
    """A connection with explicit transactions; SQL uses ``?`` placeholders on both backends."""

    dialect: Dialect
    address: StoreAddress

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        raise NotImplementedError

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Bulk-load ``rows`` into ``table`` (``COPY`` on PostgreSQL, ``executemany`` on SQLite)."""
        marks = ", ".join("?" * len(columns))
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def begin(self) -> None:
        """A read snapshot (SQLite: deferred; PostgreSQL: REPEATABLE READ)."""
        raise NotImplementedError

    def begin_write(self, turn: bool = False) -> None:
        """A write transaction; ``turn``: also wait for the store's write turn (one import applies at a time)."""
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def defer_checkpoint(self) -> None:
        """Commits leave housekeeping for :meth:`close_later` (SQLite: no WAL checkpoint inside COMMIT)."""

    def close_later(self) -> None:
        """Close without waiting for housekeeping (SQLite: the WAL checkpoint runs in a thread)."""
        self.close()

    def ping(self) -> float:
        """One round trip to the store, in seconds."""
        start = time.perf_counter()
        self.execute("SELECT 1").fetchone()
        return time.perf_counter() - start

    def table_exists(self, name: str) -> bool:
        raise NotImplementedError

    def columns_of(self, table: str) -> set[str]:
        raise NotImplementedError

    # --- with statement: the connection is closed at the end ---
    def __enter__(self) -> Db:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.in_transaction:
            self.rollback()
        self.close()


class _SqliteDb(Db):
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, timeout: float) -> None:
        self.address = self.path = path
        self._turn: ExitStack | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            self.conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.Error as exc:
            raise _sqlite_error(exc) from exc
        try:
            path.chmod(0o644)
        except OSError:
            pass

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        try:
            return self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc) from exc

    def begin(self) -> None:
        self.execute("BEGIN")

    def begin_write(self, turn: bool = False) -> None:
        if turn:
            stack = ExitStack()
            stack.enter_context(filelock.turn(self.path.with_name(self.path.name + ".lock")))
            self._turn = stack
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release_turn()
            raise

    def commit(self) -> None:
        try:
            self.execute("COMMIT")
        finally:
            self._release_turn()

    def rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._release_turn()

    def _release_turn(self) -> None:
        if self._turn is not None:
            self._turn.close()
            self._turn = None

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def close(self) -> None:
        self._release_turn()
        self.conn.close()

    def close_later(self) -> None:
        """A big import's COMMIT leaves the WAL as it is; the checkpoint runs here, in a thread, while the
        service archives (durability is unchanged: the commit is in the WAL, a checkpoint is crash-safe)."""
        self._release_turn()
        conn = self.conn

        def run() -> None:
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # the next connection's checkpoint catches up
            finally:
                conn.close()

        threading.Thread(target=run, name="checkpoint", daemon=True).start()

    def defer_checkpoint(self) -> None:
        self.execute("PRAGMA wal_autocheckpoint=0")

    def table_exists(self, name: str) -> bool:
        return self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def columns_of(self, table: str) -> set[str]:
        return {r[1] for r in self.execute(f"PRAGMA table_info({table})")}


def _sqlite_error(exc: sqlite3.Error) -> StoreError:
    if store_trouble(exc) or isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailable(f"the system store is not available: {exc}", transient=store_trouble(exc))
    return StoreFailure(f"the system store refused a statement: {exc}")


class _PgDb(Db):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, timeout: float) -> None:
        import psycopg

        self.address = url
        self._psycopg = psycopg
        self._sql: dict[str, str] = {}
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": max(1, int(min(timeout, 30)))}
        if os.environ.get(PASSWORD_ENV):
            kwargs["password"] = os.environ[PASSWORD_ENV]
        try:
            self.conn = psycopg.connect(url, **kwargs)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"the system store {redact(url)} is not reachable: {_first_line(exc)}") from None
        _ints_for_bools(self.conn)

    def _q(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        return out

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            if not params:
                return self.conn.execute(sql)
            return self.conn.execute(self._q(sql), params)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        try:
            cur = self.conn.cursor()
            cur.executemany(self._q(sql), list(rows))
            return cur
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> StoreError:
        errors = self._psycopg.errors
        if isinstance(exc, (errors.SerializationFailure, errors.DeadlockDetected)):
            return StoreRetry(_first_line(exc))
        if isinstance(exc, (self._psycopg.OperationalError, self._psycopg.InterfaceError)) or self.conn.broken:
            return StoreUnavailable(f"the system store {redact(self.address)} is not available: {_first_line(exc)}")
        return StoreFailure(f"the system store refused a statement: {_first_line(exc)}")

    def begin(self) -> None:
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def begin_write(self, turn: bool = False) -> None:
        self.execute("BEGIN")
        if turn:  # every import applies alone, on whichever host: the same rule as SQLite's one writer
            self.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_TURN_KEY,))

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.closed:
            return
        try:
            if self.in_transaction:
                self.conn.execute("ROLLBACK")
        except self._psycopg.Error:
            pass  # a broken connection has nothing left to roll back

    @property
    def in_transaction(self) -> bool:
        status = self.conn.info.transaction_status
        return status != self._psycopg.pq.TransactionStatus.IDLE and not self.conn.closed

    def close(self) -> None:
        self.conn.close()

    def table_exists(self, name: str) -> bool:
        return self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]

    def columns_of(self, table: str) -> set[str]:
        return {r[0] for r in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = current_schema()",
            (table,))}


def _ints_for_bools(conn: Any) -> None:
    """Python bools go to PostgreSQL as 0/1 (the store's flag columns are integers on both backends)."""
    from psycopg.adapt import Dumper
    from psycopg.postgres import types

    class BoolAsInt(Dumper):
        oid = types["int4"].oid

        def dump(self, obj: bool) -> bytes:
            return b"1" if obj else b"0"

    conn.adapters.register_dumper(bool, BoolAsInt)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
