"""The staging writer: parsed blocks into the scratch table, in this process or in a helper process.

A large sheet uses both cores: once ``HELPER_AFTER`` rows are staged here, the rest of the sheet's
blocks go through a pipe to the staging helper (:class:`~aimport.importing.stagehelper.StageHelper`), whose
process runs the ``executemany`` (and the duplicate bookkeeping of
:class:`~aimport.importing.stagetable.StageTable`) while this process reads and checks the next blocks.
Small files never start one.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from aimport.importing.stagehelper import StageHelper
from aimport.importing.stagetable import StageTable

__all__ = ["HELPER_AFTER", "StageWriter"]

HELPER_AFTER = 10_000  # rows staged in this process before the rest of a sheet goes to the helper


class StageWriter:
    """Stages one sheet's batches: the first ``local_rows`` with ``conn``, the rest through ``helper``.

    The caller has begun a transaction on ``conn``; :meth:`finish` commits it (and waits for the
    helper's commit), after which :attr:`duplicates` holds every row the UNIQUE key left out.
    """

    def __init__(self, conn: sqlite3.Connection, table: str, sql: str, key: list[int] | None,
                 helper: StageHelper | None, local_rows: int | None = None) -> None:
        self._local = StageTable(conn, table, sql, key)
        self._conn = conn
        self._args = (table, sql, key)
        self._helper = helper
        self._room = HELPER_AFTER if local_rows is None else local_rows
        self._remote = False
        self.duplicates: list[tuple[int, tuple[Any, ...]]] = []

    def put(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        if self._remote:
            assert self._helper is not None
            self._helper.send_rows(batch)
            return
        self._local.put(batch)
        self._room -= len(batch)
        if self._room <= 0 and self._helper is not None:
            self._conn.execute("COMMIT")  # the helper writes the same file from here on
            self._helper.send(("begin", *self._args))
            self._remote = True

    def finish(self) -> None:
        self.duplicates = list(self._local.duplicates)
        if self._remote:
            assert self._helper is not None
            self._helper.send(("end",))
            self.duplicates += self._helper.reply()
        else:
            self._conn.execute("COMMIT")
