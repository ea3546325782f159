"""The embedded backend: the system store in one SQLite file on the sidecar's local disk (``STATE/system.sqlite``).

WAL journal, explicit transactions; the write turn of an import is a lock file next to the database
(one import applies at a time, the others queue there instead of in SQLite's busy handler), and a big
import's WAL checkpoint runs after its COMMIT, not inside it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimport import filelock
from aimport.errors import store_trouble
from aimport.store.db import Db, Dialect, StoreError, StoreFailure, StoreUnavailable

if TYPE_CHECKING:
    from aimport.store.session import StoreSession

__all__ = ["SqliteDb"]


class SqliteDb(Db):
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, timeout: float, session: StoreSession) -> None:
        self.address = self.path = path
        self.session = session
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

    def _begin_write(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def take_turn(self, locks: Sequence[tuple[int, bool]], timeout_s: float, mark: str) -> bool:
        """One writer, whatever the keys: the lock file, then ``BEGIN IMMEDIATE`` (an open write transaction
        already excludes every other writer); no time limit."""
        if self.conn.in_transaction:
            return True
        stack = ExitStack()
        stack.enter_context(filelock.turn(self.path.with_name(self.path.name + ".lock")))
        self._turn = stack
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release_turn()
            raise
        return True

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
