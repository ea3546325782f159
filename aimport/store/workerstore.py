"""The store connection an import worker process keeps from one import to the next.

Connecting (and on SQLite setting the journal up) is paid once per worker process instead of once per
file; everything else stays per import: each use checks the schema version again (two small queries,
which also tell whether the connection still works), and a connection that failed, or a SQLite file
that was replaced or deleted since, is closed and opened afresh. An import gets the connection with
nothing attached and no transaction open, and gives it back the same way.

SQLite: as with a connection of its own (:meth:`~aimport.store.db.Db.close_later`), COMMIT never runs
the WAL checkpoint; it runs after each import in this process's checkpoint thread (its own connection),
while the service archives (imports that end while one runs share the next).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aimport.store.connect import open_db
from aimport.store.db import Db, StoreAddress, StoreError, is_postgresql
from aimport.store.schema import ensure_schema

__all__ = ["import_store"]

CHECKPOINT_TIMEOUT_S = 60.0


class _Kept:
    """The one kept connection of this process (one store at a time: another address replaces it)."""

    def __init__(self, address: StoreAddress) -> None:
        self.key = str(address)
        self.db: Db | None = None
        self.file: tuple[int, int] | None = None  # SQLite: the file the connection writes to
        self.checkpoints = None if is_postgresql(address) else _Checkpointer(Path(address))

    def take(self, address: StoreAddress) -> Db:
        if self.db is not None and not self._current():  # the SQLite file was replaced or deleted: start afresh
            self.drop()
            if self.checkpoints is not None:
                self.checkpoints.stop()
                self.checkpoints = _Checkpointer(self.checkpoints.path)
        if self.db is not None:
            try:
                ensure_schema(self.db)
                return self.db
            except StoreError:  # the connection broke while it was kept (a server restart): one new try
                self.drop()
        self.db = open_db(address, role="import")
        try:
            ensure_schema(self.db)
            self.db.defer_checkpoint()
        except BaseException:
            self.drop()
            raise
        self.file = _file_of(address)
        return self.db

    def _current(self) -> bool:
        return self.checkpoints is None or _file_of(self.key) == self.file

    def give_back(self) -> None:
        """Roll back what is open and detach scratch files; the connection is kept (or dropped if that fails)."""
        db = self.db
        if db is None:
            return
        try:
            db.rollback()
            if db.dialect == "sqlite":
                for _seq, name, _file in db.execute("PRAGMA database_list").fetchall():
                    if name not in ("main", "temp"):
                        db.execute(f'DETACH DATABASE "{name}"')
        except (StoreError, sqlite3.Error):
            self.drop()
            return
        if self.checkpoints is not None:
            self.checkpoints.request()

    def drop(self) -> None:
        db, self.db = self.db, None
        if db is not None:
            try:
                db.rollback()
                db.close()
            except (StoreError, sqlite3.Error):
                pass

    def close(self) -> None:
        self.drop()
        if self.checkpoints is not None:
            self.checkpoints.stop()


class _Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection when asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="checkpoint", daemon=True)
            self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread and wait until its connection is closed (before another connection is opened on a
        new file at the same path: a connection to the old file must not touch the new one's write-ahead log)."""
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(CHECKPOINT_TIMEOUT_S)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopped:
                break
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, timeout=CHECKPOINT_TIMEOUT_S, isolation_level=None,
                                           check_same_thread=False)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # the next request (or the next connection's checkpoint) catches up
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


_kept: _Kept | None = None
_in_use = threading.Lock()  # one import at a time uses the kept connection; another at once gets its own


def _file_of(address: StoreAddress) -> tuple[int, int] | None:
    try:
        st = os.stat(address)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@contextmanager
def import_store(address: StoreAddress) -> Iterator[Db]:
    """The store at ``address`` for one import (schema checked), kept open for the next import of this process."""
    global _kept
    if not _in_use.acquire(blocking=False):  # imports in threads of one process (tests, aimport import)
        db = open_db(address, role="import")
        try:
            ensure_schema(db)
            db.defer_checkpoint()
            yield db
        finally:
            db.rollback()
            db.close_later()
        return
    try:
        if _kept is None or _kept.key != str(address):
            if _kept is not None:
                _kept.close()
            _kept = _Kept(address)
        kept = _kept
        db = kept.take(address)
        try:
            yield db
        except StoreError:
            kept.drop()  # the connection may be what failed: the next import opens a new one
            raise
        finally:
            kept.give_back()
    finally:
        _in_use.release()
