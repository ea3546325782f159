"""Staging plumbing: a flat view over reader blocks, and the scratch writer.

Reading, parsing and storing are pipelined block by block (2000 rows): a block
is stored as soon as it is parsed, so memory stays flat however long the file is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the staging helper process imports this module: it needs no reader
    from aimport.readers.base import Block, Row


class Flat:
    """``(row_no, row)`` pairs over blocks (for header detection), then the remaining blocks."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._nos: Sequence[int] = ()
        self._rows: list[Row] = []
        self._i = 0

    def __iter__(self) -> Flat:
        return self

    def __next__(self) -> tuple[int, Row]:
        while self._i >= len(self._rows):
            self._nos, self._rows = next(self._blocks)
            self._i = 0
        i = self._i
        self._i += 1
        return self._nos[i], self._rows[i]

    def rest(self) -> Iterator[Block]:
        if self._i < len(self._rows):
            yield self._nos[self._i:], self._rows[self._i:]
        self._rows = []
        yield from self._blocks


class StageTable:
    """Inserts staged batches in order, one ``executemany`` per block as soon as it is parsed.

    With ``key`` (column positions in the staged tuple) the table has a UNIQUE index on
    them, and the rows ``INSERT OR IGNORE`` leaves out are kept as (row_no, key) duplicates.
    (A writer thread was measured and dropped: ``executemany`` gives up the GIL for every
    row's ``sqlite3_step`` and then waits a switch interval to get it back from the parsing
    thread, so parsing and writing only alternated, with extra overhead.)
    """

    def __init__(self, conn: sqlite3.Connection, table: str, sql: str, key: list[int] | None) -> None:
        self.conn, self.table, self.sql, self.key = conn, table, sql, key
        self.duplicates: list[tuple[int, tuple[Any, ...]]] = []

    def put(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        cur = self.conn.executemany(self.sql, batch)
        if self.key is not None and cur.rowcount < len(batch):
            lo, hi = batch[0][0], batch[-1][0]
            kept = {r for (r,) in self.conn.execute(
                f"SELECT row_no FROM {self.table} WHERE row_no BETWEEN ? AND ?", (lo, hi))}
            self.duplicates += [(r[0], tuple(r[k] for k in self.key)) for r in batch if r[0] not in kept]
