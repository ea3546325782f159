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

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aimport.itemtypes.catalog import ALL_TYPES
from aimport.store.address import display

if TYPE_CHECKING:
    from aimport.store.session import StoreSession

__all__ = [
    "Db",
    "StoreAddress",
    "StoreError",
    "StoreFailure",
    "StoreRetry",
    "StoreUnavailable",
    "first_line",
    "is_postgresql",
    "redact",
    "retry_count",
    "store_exists",
    "with_retries",
]

StoreAddress = Path | str  # a SQLite file, or a postgresql:// URL
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

PASSWORD_ENV = "AIMPORT_STORE_PASSWORD"
WRITE_TURN_KEY = 0x61696D70  # "aimp": the store-wide turn of aimport before 27 (now taken shared: aimport.store.turn)
TURN_CLASS = 0x61696D70  # the first half of every per-table turn key (pg_advisory_xact_lock(TURN_CLASS, n))
TURN_TABLES: tuple[str, ...] = (*(t.table for t in ALL_TYPES), "campaigns")  # key n is TURN_TABLES[n - 1]
TURN_MARK = " turn@"  # a turn holder's application_name: "<its name> turn@<epoch seconds>" (aimport.store.turn)
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
    """The address for logs and messages: every password libpq would find in it is ``***``
    (:func:`aimport.store.address.display`)."""
    return display(address)


class Db:
    """A connection with explicit transactions; SQL uses ``?`` placeholders on both backends."""

    dialect: Dialect
    address: StoreAddress
    session: StoreSession  # who connected, and how long its waits may last
    scratch_rows: dict[str, int]  # PostgreSQL: rows its kept temporary tables took (aimport.store.stagedrows.stage_plain)

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

    def begin_write(self) -> None:
        """A write transaction (the write turn of the tables it writes: :func:`aimport.store.turn.take`)."""
        self._begin_write()

    def _begin_write(self) -> None:
        raise NotImplementedError

    def take_turn(self, locks: Sequence[tuple[int, bool]], timeout_s: float, mark: str) -> bool:
        """Take the turn keys ``locks`` (``(key, exclusive)``, in order) in the open write transaction, or in one
        begun here; False when ``timeout_s`` passed first (rolled back). ``mark``: see :mod:`aimport.store.turn`."""
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def commit_with(self, sql: str, params: Sequence[Any] = ()) -> None:
        """One last statement, then COMMIT (PostgreSQL: sent together, one round trip)."""
        self.execute(sql, params)
        self.commit()

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


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
