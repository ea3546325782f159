"""The shared backend: the system store on a PostgreSQL server, for several units' sidecars at once.

psycopg 3 in autocommit mode with explicit transactions; ``?`` placeholders become ``%s``; bulk loads
go by ``COPY``; an import's write turn is ``pg_advisory_xact_lock`` (released by the server at the
end of the transaction, also when a killed process's connection goes away). The password comes from
``AIMPORT_STORE_PASSWORD`` or libpq's own pgpass/service files and never appears in a message.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from aimport.store.db import (
    PASSWORD_ENV,
    WRITE_TURN_KEY,
    Db,
    Dialect,
    StoreError,
    StoreFailure,
    StoreRetry,
    StoreUnavailable,
    first_line,
    redact,
)

__all__ = ["PostgresDb"]


class PostgresDb(Db):
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
            raise StoreUnavailable(f"the system store {redact(url)} is not reachable: {first_line(exc)}") from None
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
            return StoreRetry(first_line(exc))
        if isinstance(exc, (self._psycopg.OperationalError, self._psycopg.InterfaceError)) or self.conn.broken:
            return StoreUnavailable(f"the system store {redact(self.address)} is not available: {first_line(exc)}")
        return StoreFailure(f"the system store refused a statement: {first_line(exc)}")

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
