"""The rejected rows of one import, kept on disk as they are rejected, and where their workbook is written.

Every rejection goes through :meth:`aimport.importing.worklog.ImportLog.rejected` (staging, duplicates,
hidden rows, the store's checks); the log hands each one to a :class:`RejectedRows` as well, which keeps
``(sheet, row, column, reason)`` in the import's scratch database ``<key>.rejected.sqlite``
(:mod:`aimport.importing.scratch`), so 100,000 rejected rows cost a few hundred kilobytes of disk and no
memory. A store transaction that is run again (another writer made it give up) drops the rejections of
the run before, as the work log drops their lines (:meth:`RejectedRows.restart_mark`).

After COMMIT the rows are written with their original cells to the work file ``<key>.rejected.xlsx``
(``.rejected.txt`` for a text file) next to the work log (:mod:`aimport.importing.rejectedwrite`); the
service copies it into History/ with the other side files, before the ``.result`` that names it
(``rejected_file``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EXTENSIONS", "REASON", "SUFFIX", "Rejected", "RejectedRows", "work_file", "work_path"]

REASON = "Reason"  # the column the rejected rows' workbook adds; an import ignores a column of that name
SUFFIX = ".rejected"  # <history stem>.rejected.xlsx / .rejected.txt
EXTENSIONS = (".xlsx", ".txt")  # a workbook's rejected rows / a text file's (tab-delimited, UTF-8 with BOM)
_BATCH = 1000  # rejections buffered before they go to the scratch database


def work_path(work_dir: Path, import_key: str, ext: str) -> Path:
    """The work file of the rejected rows of the import ``import_key`` (``ext``: one of :data:`EXTENSIONS`)."""
    assert ext in EXTENSIONS, ext
    return work_dir / f"{import_key}{SUFFIX}{ext}"


def work_file(log_path: Path | None) -> Path | None:
    """The rejected rows' work file written beside the work log ``<key>.log``, if there is one."""
    if log_path is None or log_path.suffix != ".log":
        return None
    for ext in EXTENSIONS:
        p = work_path(log_path.parent, log_path.stem, ext)
        if p.is_file():
            return p
    return None


@dataclass(frozen=True, slots=True)
class Rejected:
    """One rejected row: its number in the sheet, the column at fault ("" when none) and the reason."""

    row: int
    column: str
    reason: str

    def text(self) -> str:
        """The ``Reason`` cell: ``row 7, column Phone: ...`` (the row number in the file it came from)."""
        return f"row {self.row}" + (f", column {self.column}" if self.column else "") + f": {self.reason}"


class RejectedRows:
    """The rejections of one import in a scratch database (removed by :meth:`close`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute("CREATE TABLE rejected (seq INTEGER PRIMARY KEY, sheet TEXT, row_no INTEGER, "
                           "col TEXT, reason TEXT)")
        self._buffer: list[tuple[int, str, int, str, str]] = []
        self._seq = 0
        self._mark: int | None = None
        self._indexed = False

    def add(self, sheet: str, row: int, column: str | None, reason: str) -> None:
        """One rejected row (called by the work log for each REJECT line)."""
        self._seq += 1
        self._buffer.append((self._seq, sheet, row, column or "", reason))
        if len(self._buffer) >= _BATCH:
            self._flush()

    def restart_mark(self) -> None:
        """Where a store transaction starts rejecting: the first call remembers it, a later call (the
        transaction runs again) forgets the rejections since (as :meth:`ImportLog.restart_mark` does)."""
        if self._mark is None:
            self._mark = self._seq
            return
        self._buffer = [b for b in self._buffer if b[0] <= self._mark]
        self._flush()
        self._conn.execute("DELETE FROM rejected WHERE seq > ?", (self._mark,))
        self._seq = self._mark

    def _flush(self) -> None:
        if self._buffer:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT INTO rejected VALUES (?, ?, ?, ?, ?)", self._buffer)
            self._conn.execute("COMMIT")
            self._buffer = []

    def _ready(self) -> None:
        self._flush()
        if not self._indexed:
            self._conn.execute("CREATE INDEX rejected_rows ON rejected (sheet, row_no, seq)")
            self._indexed = True

    def count(self) -> int:
        self._ready()
        (n,) = self._conn.execute("SELECT COUNT(DISTINCT sheet || char(0) || row_no) FROM rejected").fetchone()
        return int(n)

    def sheets(self) -> set[str]:
        """The sheets that have rejected rows."""
        self._ready()
        return {s for (s,) in self._conn.execute("SELECT DISTINCT sheet FROM rejected")}

    def of_sheet(self, sheet: str) -> Iterator[Rejected]:
        """The sheet's rejected rows in row order, each once (its first reason), streamed from disk."""
        self._ready()
        last = None
        for row, column, reason in self._conn.execute(
                "SELECT row_no, col, reason FROM rejected WHERE sheet = ? ORDER BY row_no, seq", (sheet,)):
            if row != last:
                last = row
                yield Rejected(int(row), str(column), str(reason))

    def close(self) -> None:
        """Close and remove the scratch database."""
        self._conn.close()
        self.path.unlink(missing_ok=True)
