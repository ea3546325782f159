"""The shared backend: the system store on a PostgreSQL server, for several units' sidecars at once.

psycopg 3 in autocommit mode with explicit transactions; ``?`` placeholders become ``%s``; bulk loads
go by ``COPY``; an import's write turn is a set of ``pg_advisory_xact_lock`` keys (:mod:`aimport.store.turn`;
released by the server at the end of the transaction, also when a killed process's connection goes away).
Each connection names itself (``application_name``), keeps TCP keepalives, and has the server end an idle
transaction and a long lock wait (:class:`~aimport.store.connect.StoreSession`). The password comes from
``AIMPORT_STORE_PASSWORD`` or libpq's own pgpass/service files and never appears in a message.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from aimport.store.db import (
    PASSWORD_ENV,
    TURN_CLASS,
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

if TYPE_CHECKING:
    from aimport.store.session import StoreSession

__all__ = ["PostgresDb"]

KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


class PostgresDb(Db):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, timeout: float, session: StoreSession) -> None:
        import psycopg

        self.address = url
        self.session = session
        self._psycopg = psycopg
        self._sql: dict[str, str] = {}
        self._name = session.application_name()
        self.scratch_rows: dict[str, int] = {}
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": max(1, int(min(timeout, 30))),
                                  "application_name": self._name, **KEEPALIVES}
        if os.environ.get(PASSWORD_ENV):
            kwargs["password"] = os.environ[PASSWORD_ENV]
        try:
            self.conn = psycopg.connect(url, **kwargs)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"the system store {redact(url)} is not reachable: {first_line(exc)}") from None
        _ints_for_bools(self.conn)
        self._lock_timeout = f"{max(1, round(session.lock_timeout_s * 1000))}ms"
        self.execute("SELECT set_config('idle_in_transaction_session_timeout', ?, false), "
                     "set_config('lock_timeout', ?, false)",
                     (f"{max(1, round(session.idle_timeout_s * 1000))}ms", self._lock_timeout))

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

    def _begin_write(self) -> None:
        self.execute("BEGIN")

    def take_turn(self, locks: Sequence[tuple[int, bool]], timeout_s: float, mark: str) -> bool:
        if not self.in_transaction:
            self.execute("BEGIN")
        # one statement, keys in order; the wait is bounded by its own lock_timeout; then the holder marks its
        # application_name with the server's time (for this transaction only), so others see since when
        self.execute("SELECT set_config('lock_timeout', ?, true)", (f"{max(1, round(timeout_s * 1000))}ms",))
        calls = ["pg_advisory_xact_lock_shared(?)"] + [
            f"pg_advisory_xact_lock{'' if exclusive else '_shared'}(?, ?)" for _, exclusive in locks]
        params: list[Any] = [WRITE_TURN_KEY]
        for key, _ in locks:
            params += [TURN_CLASS, key]
        calls += ["set_config('lock_timeout', ?, true)",
                  "set_config('application_name', ?::text || floor(extract(epoch FROM clock_timestamp()))::bigint::text, true)"]
        params += [self._lock_timeout, self._name[:63 - len(mark) - 11] + mark]
        try:
            self.conn.execute(self._q("SELECT " + ", ".join(calls)), params)
        except self._psycopg.errors.LockNotAvailable:
            self.rollback()
            return False
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc
        return True

    def commit(self) -> None:
        self.execute("COMMIT")

    def commit_with(self, sql: str, params: Sequence[Any] = ()) -> None:
        if not self._psycopg.Pipeline.is_supported():
            super().commit_with(sql, params)
            return
        try:
            with self.conn.pipeline():
                self.conn.execute(self._q(sql), params)
                self.conn.execute("COMMIT")
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

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
