"""Opening the system store: the address says which backend (a ``postgresql://`` URL, else a SQLite file)."""

from __future__ import annotations

from pathlib import Path

from aimport.store.db import Db, StoreAddress, is_postgresql

__all__ = ["open_db"]


def open_db(address: StoreAddress, timeout: float = 60.0) -> Db:
    """Connect to the store at ``address`` (no schema check: see :func:`aimport.store.schema.open_store`)."""
    if is_postgresql(address):
        from aimport.store.postgresdb import PostgresDb  # psycopg only where PostgreSQL is used

        return PostgresDb(str(address), timeout)
    from aimport.store.sqlitedb import SqliteDb

    return SqliteDb(Path(address), timeout)
