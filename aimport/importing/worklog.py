"""The human-readable ``.log`` of one import, written as the import goes.

Every line of it, whoever writes it (the import worker, the service while it retries or waits,
start-up recovery), is ``YYYY-MM-DD HH:MM:SS LEVEL   text`` (:func:`line`); the work file
``<work dir>/<import key>.log`` (:func:`work_path`) becomes the ``.log`` in History/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol, TextIO

from aimport.names import display_name

__all__ = ["ImportLog", "RejectSink", "line", "note", "work_path"]


def line(level: str, text: str) -> str:
    """One work-log line: local time, the level padded to 7, the text on one line (a file name or a cell with a
    line break or another control character cannot add or forge a line: :func:`aimport.names.display_name`)."""
    return f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {level:<7} {display_name(text)}\n"


def work_path(work_dir: Path, import_key: str) -> Path:
    """The work log of the import ledgered under ``import_key``."""
    return work_dir / f"{import_key}.log"


def note(path: Path | None, level: str, text: str) -> None:
    """Append one line to a work log from outside the import (best effort: the disk may be the problem)."""
    if path is None:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line(level, text))
    except OSError:
        pass


class RejectSink(Protocol):
    """Where the rejected rows go besides their REJECT lines (:class:`aimport.importing.rejectedscratch.RejectedRows`)."""

    def add(self, sheet: str, row: int, column: str | None, reason: str) -> None: ...

    def restart_mark(self) -> None: ...


class ImportLog:
    """Append :func:`line` lines to a work file; kept across a crash."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: TextIO | None = None
        self._memory: list[str] = []
        self._mark: int | None = None
        # what the .result counts besides the row counts (hidden_rows, phones_from_numbers): name -> count
        self.tallies: dict[str, int] = {}
        self.sink: RejectSink | None = None  # also told each rejected row (the rows' workbook is made of them)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held for the whole import, closed by close()

    def _write(self, level: str, text: str) -> None:
        if self._fh is not None:
            self._fh.write(line(level, text))
        else:
            self._memory.append(line(level, text))

    def info(self, text: str) -> None:
        self._write("INFO", text)

    def warning(self, text: str) -> None:
        self._write("WARNING", text)

    def error(self, text: str) -> None:
        self._write("ERROR", text)

    def rejected(self, sheet: str, row: int, column: str | None, reason: str) -> None:
        where = f"sheet {sheet!r} row {row}" + (f" column {column}" if column else "")
        self._write("REJECT", f"{where}: {reason}")
        if self.sink is not None:
            self.sink.add(sheet, row, column, reason)

    def tally(self, name: str, n: int = 1) -> None:
        """Count ``n`` more of ``name`` for the ``.result`` (``name: N`` lines, committed with the import)."""
        if n:
            self.tallies[name] = self.tallies.get(name, 0) + n

    def restart_mark(self) -> None:
        """Where a store transaction starts writing lines: the first call remembers it; a later call (the
        transaction was rolled back and runs again) cuts the lines written since, so none is doubled."""
        if self.sink is not None:
            self.sink.restart_mark()
        if self._fh is not None:
            self._fh.flush()
            if self._mark is None:
                self._mark = self._fh.tell()
            else:
                self._fh.truncate(self._mark)
                self._fh.seek(self._mark)
                self.info("the store gave the transaction up (another writer); running it again")
        elif self._mark is None:
            self._mark = len(self._memory)
        else:
            del self._memory[self._mark:]
            self.info("the store gave the transaction up (another writer); running it again")

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def text(self) -> str:
        if self.path is not None:
            self.flush()
            return self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        return "".join(self._memory)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
