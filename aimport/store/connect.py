"""Opening the system store: the address says which backend (a ``postgresql://`` URL, else a SQLite file).

Every connection says who it is and how long it may wait (:class:`StoreSession`): on PostgreSQL its
``application_name`` is ``aimport <SERVER_UNIT> pid <pid> <role>``, TCP keepalives find a half-open
connection, and the server ends a transaction left idle (``idle_in_transaction_session_timeout``) and a
statement that waits too long for a lock (``lock_timeout``). The service says so once
(:func:`configure`); its import worker processes inherit it through the environment.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path

from aimport.store.db import Db, StoreAddress, is_postgresql
from aimport.store.session import StoreSession

__all__ = ["SESSION_ENV", "StoreSession", "configure", "open_db", "session"]

SESSION_ENV = "AIMPORT_STORE_SESSION"  # the service's StoreSession as JSON, for its worker processes


_session: StoreSession | None = None


def configure(given: StoreSession) -> None:
    """This process's session (and its children's: the worker processes of imports inherit it)."""
    global _session
    _session = given
    os.environ[SESSION_ENV] = json.dumps(asdict(given))


def session(role: str | None = None) -> StoreSession:
    """The configured session (from :func:`configure`, or inherited), with ``role`` if given."""
    current = _session
    if current is None:
        try:
            current = StoreSession(**json.loads(os.environ.get(SESSION_ENV, "") or "{}"))
        except (TypeError, ValueError):
            current = StoreSession()
    return replace(current, role=role) if role else current


def open_db(address: StoreAddress, timeout: float = 60.0, role: str | None = None) -> Db:
    """Connect to the store at ``address`` (no schema check: see :func:`aimport.store.schema.open_store`)."""
    if is_postgresql(address):
        from aimport.store.postgresdb import PostgresDb  # psycopg only where PostgreSQL is used

        return PostgresDb(str(address), timeout, session(role))
    from aimport.store.sqlitedb import SqliteDb

    return SqliteDb(Path(address), timeout, session(role))
