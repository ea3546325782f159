"""Streaming xlsx writing that never produces a formula (shared by every export)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from aimport.atomicfile import finish, temp_path

__all__ = ["SheetWriter"]


class SheetWriter:
    """One workbook written to a temp name and renamed into place on close."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter  # here, not at module level: the service needs it only when it exports (4.5 MB resident)

        self.path = path
        self.tmp = temp_path(path)
        self.book = xlsxwriter.Workbook(str(self.tmp), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False, "nan_inf_to_errors": True,
        })
        self.bold = self.book.add_format({"bold": True})
        self.text = self.book.add_format({"num_format": "@"})  # Text: what is typed stays as typed (0401234567)

    def sheet(self, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              text_columns: Collection[int] = ()) -> int:
        """Write a sheet; every string is written as text, numbers as numbers. ``text_columns`` (0-based; phone
        numbers) are Text columns: their values are strings in cells formatted ``@``, and so is the rest of
        the column, so a number typed into it later keeps its leading 0. Returns the row count."""
        ws = self.book.add_worksheet(name[:31])
        for c in text_columns:
            ws.set_column(c, c, None, self.text)
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, self.bold)
        n = 0
        for n, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if c in text_columns:
                    ws.write_string(n, c, str(v), self.text)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(n, c, v)
                else:
                    ws.write_string(n, c, str(v))
        ws.freeze_panes(1, 0)
        return n

    def close(self, before_rename: Callable[[], None] | None = None) -> Path:
        self.book.close()
        return finish(self.tmp, self.path, before_rename)

    def abort(self) -> None:
        try:
            self.book.close()
        except Exception:  # noqa: BLE001 - best effort on an error path
            pass
        self.tmp.unlink(missing_ok=True)
