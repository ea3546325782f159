"""The human-readable ``.log`` of one import, written as the import goes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO


class ImportLog:
    """Append lines ``HH:MM:SS LEVEL text`` to a work file; kept across a crash."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.warnings = 0
        self.errors = 0
        self._fh: TextIO | None = None
        self._memory: list[str] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "a", encoding="utf-8")

    def _write(self, level: str, text: str) -> None:
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        line = f"{stamp} {level:<7} {text}\n"
        if self._fh is not None:
            self._fh.write(line)
        else:
            self._memory.append(line)

    def info(self, text: str) -> None:
        self._write("INFO", text)

    def warning(self, text: str) -> None:
        self.warnings += 1
        self._write("WARNING", text)

    def error(self, text: str) -> None:
        self.errors += 1
        self._write("ERROR", text)

    def rejected(self, sheet: str, row: int, column: str | None, reason: str) -> None:
        where = f"sheet {sheet!r} row {row}" + (f" column {column}" if column else "")
        self.errors += 1
        self._write("REJECT", f"{where}: {reason}")

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
