"""Excel .xlsx reader: calamine (Rust) for speed, after zip and XML safety checks.

What calamine does not give is read from the workbook's own parts, as far as cheap byte hints say it is
needed: error cells, number-formatted cells (as ``Shown``), hidden rows, table totals rows, pivot tables.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from aimport.readers.base import BLOCK_ROWS, Block, CellError, RawSheet, ReadError, Row, Shown
from aimport.readers.numformat import NumberFormat
from aimport.readers.package import DAMAGE, Package, calamine_copy, damaged, needs_copy, preflight
from aimport.readers.sheetlayout import Area, Hints, formatted_cells, hidden_rows, pivot_tables, scan_hints
from aimport.readers.xlsxparts import error_cells, number_styles, read_book, totals_rows, uncalculated_formulas

__all__ = ["XlsxWorkbook", "preflight", "uncalculated_formulas"]

KIND_LABELS = {"macrosheet": "an Excel 4 macro sheet", "dialogsheet": "an Excel 5 dialog sheet",
               "chartsheet": "a chart sheet"}
DAMAGE_WORDS = ("deflate", "crc", "checksum", "zip", "eof", "corrupt", "invalid stored block", "truncated")
_ERRORS = (KeyError, ElementTree.ParseError, ValueError)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _calamine_error(what: str, part: str, exc: Exception) -> ReadError:
    """calamine's own read error: damage in a part (calamine does not check CRCs) or another fault."""
    text = str(exc) or type(exc).__name__
    if any(w in text.lower() for w in DAMAGE_WORDS):
        return damaged(part, exc)
    return ReadError("NOT_A_WORKBOOK", f"{what} cannot be read: {text}")


class _Load(threading.Thread):
    """Loads one sheet in the background: calamine parses the XML in Rust without the GIL."""

    def __init__(self, wb: Any, name: str) -> None:
        super().__init__(name=f"calamine {name}", daemon=True)
        self.wb, self.sheet_name = wb, name
        self.sheet: Any = None
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        try:
            self.sheet = self.wb.get_sheet_by_name(self.sheet_name)
        except Exception as exc:  # noqa: BLE001 - re-raised as ReadError by the reader
            self.error = exc


@dataclass
class _Layout:
    """What a sheet's part says beside its values (read once per sheet)."""

    hints: Hints
    hidden: frozenset[int] = frozenset()
    skip: set[int] = field(default_factory=set)  # table totals rows
    pivots: list[Area] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class XlsxWorkbook:
    def __init__(self, path: Path, max_unzipped_bytes: int) -> None:
        from python_calamine import CalamineWorkbook

        preflight(path, max_unzipped_bytes)
        self.path = path
        self.warnings: list[str] = []
        self.infos: list[str] = []  # INFO lines for the work log (sheets passed over that are not worksheets)
        copy = None
        try:
            with Package(path) as zf:
                self._info = read_book(zf)
                self._formats: dict[int, NumberFormat] = number_styles(zf, self._info.styles)
                kinds = [s.kind for s in self._info.sheets]
                if needs_copy(self._info.book_part, kinds):
                    copy = calamine_copy(zf, self._info.book_part, {s.rel_id for s in self._info.sheets
                                                               if s.kind == "macrosheet"})
                uncalculated = uncalculated_formulas(zf, self._info)
        except _ERRORS as exc:
            raise ReadError("NOT_A_WORKBOOK", f"the workbook cannot be read: {exc}") from None
        except DAMAGE as exc:
            raise ReadError("NOT_A_WORKBOOK", f"damaged workbook: {exc}") from None
        try:
            self._wb = CalamineWorkbook.from_filelike(copy) if copy is not None else CalamineWorkbook.from_path(
                str(path))
            names = list(self._wb.sheet_names)
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
            raise _calamine_error("the workbook", self._info.book_part, exc) from None
        kind = {s.name: s.kind for s in self._info.sheets}
        for s in self._info.sheets:
            if s.kind != "worksheet":
                self.infos.append(f"sheet {s.name!r} is {KIND_LABELS.get(s.kind, s.kind)} and was passed over "
                                  "(only worksheets hold rows to import)")
        names = [n for n in names if kind.get(n, "worksheet") == "worksheet"]
        self.hidden = {n: self._info.state(n) for n in names if self._info.state(n) != "visible"}
        self._names = [n for n in names if n not in self.hidden]
        self._last: tuple[str, Any] | None = None  # the sheet loaded last (a sheet is often asked for twice)
        self._layouts: dict[str, _Layout] = {}
        self._load: _Load | None = _Load(self._wb, self._names[0]) if self._names else None
        for sheet in uncalculated:
            if sheet in self._names:
                self.warnings.append(f"sheet {sheet!r} has formulas without a calculated value (the file was written "
                                     "by a program that does not calculate): they read as empty; open and save it in "
                                     "Excel first")

    def sheet_names(self) -> list[str]:
        """The visible worksheets, in workbook order (hidden and very hidden sheets are never imported)."""
        return list(self._names)

    def sheet(self, name: str) -> RawSheet:
        lay = self._layout(name)
        return RawSheet(name=name, rows=lambda: self._rows(name), blocks=lambda: self._blocks(name),
                        warnings=list(lay.notes), date1904=self._info.date1904, hidden_rows=lay.hidden)

    def _layout(self, name: str) -> _Layout:
        """Hints, hidden rows, totals rows and pivot tables of the sheet (its part read while calamine loads it)."""
        if name in self._layouts:
            return self._layouts[name]
        self._start(name)
        part = self._info.part(name)
        try:
            with Package(self.path) as zf:
                lay = _Layout(scan_hints(zf, part, self._formats) if part else Hints())
                if lay.hints.hidden:
                    lay.hidden = hidden_rows(zf, part)
                totals = totals_rows(zf, part)
                lay.pivots = pivot_tables(zf, part) if part else []
        except _ERRORS as exc:
            raise ReadError("NOT_A_WORKBOOK", f"sheet {name!r}: a part cannot be read: {exc}") from None
        lay.skip = {r for _, lo, hi in totals for r in range(lo, hi + 1)}
        lay.notes = [f"table {table!r}: its totals row {lo if lo == hi else f'{lo}-{hi}'} is not data and was skipped"
                     for table, lo, hi in totals]
        lay.notes += [f"pivot table {p.name!r} ({p.ref}) is a summary, not data: its cells were left out"
                      for p in lay.pivots]
        self._layouts[name] = lay
        return lay

    def _start(self, name: str) -> None:
        """Have sheet ``name`` loading in the background (unless it is loaded or loading already)."""
        if (self._last is not None and self._last[0] == name) or (
                self._load is not None and self._load.sheet_name == name):
            return
        if self._load is not None:  # the workbook loads one sheet at a time
            self._load.join()
        self._load = _Load(self._wb, name)

    def _sheet(self, name: str) -> Any:
        if self._last is not None and self._last[0] == name:
            return self._last[1]
        self._start(name)
        load, self._load = self._load, None
        assert load is not None
        load.join()
        if load.error is not None:
            raise _calamine_error(f"sheet {name!r}", self._info.part(name), load.error) from None
        self._last = (name, load.sheet)
        return load.sheet

    def _cells(self, name: str, lay: _Layout) -> tuple[dict[int, list[tuple[int, CellError]]],
                                                      dict[int, list[tuple[int, int]]]]:
        """Row index -> (column index, error) of the error cells, and -> (column index, style index) of the
        number cells shown otherwise than General (0-based, as in the sheet)."""
        part = self._info.part(name)
        errors: dict[int, list[tuple[int, CellError]]] = {}
        if not part or not (lay.hints.errors or lay.hints.styled):
            return errors, {}
        try:
            with Package(self.path) as zf:
                found = error_cells(zf, part, hinted=True) if lay.hints.errors else {}
                styled = formatted_cells(zf, part, self._formats, not lay.hints.norefs) if lay.hints.styled else {}
        except _ERRORS as exc:
            raise ReadError("NOT_A_WORKBOOK", f"sheet {name!r} cannot be read: {exc}") from None
        for (r, c), err in found.items():
            errors.setdefault(r, []).append((c, err))
        return errors, styled  # (column, style index): _put_shown looks the format up

    def _rows(self, name: str) -> Iterator[tuple[int, Row]]:
        for nos, rows in self._blocks(name):
            yield from zip(nos, rows)

    def _blocks(self, name: str) -> Iterator[Block]:
        """Blocks of (row numbers, rows); rows of empty cells only are left out, whole floats become ints.

        calamine yields rows from the sheet's first row (row 1) but columns from the
        first used column; the shift is the same for header and data rows. calamine reads
        error cells as empty: they are put back as CellError; number cells with a number format are put back
        as ``Shown``; table totals rows are left out, and pivot table cells blanked.
        """
        lay = self._layout(name)
        self._start(name)
        errors, shown = self._cells(name, lay)  # unpacks the sheet part while calamine loads it on the other core
        sheet = self._sheet(name)
        it = sheet.iter_rows()
        first_col = sheet.start[1] if sheet.start else 0
        skip, pivots = lay.skip, lay.pivots
        float_ = float
        done = 0
        while True:
            rows = list(islice(it, BLOCK_ROWS))
            if not rows:
                return
            nos: Sequence[int] = range(done + 1, done + 1 + len(rows))
            if errors:
                _put_errors(rows, done, first_col, errors)
            if shown:
                _put_shown(rows, done, first_col, shown, self._formats)
            if pivots:
                _blank(rows, done, first_col, pivots)
            done += len(rows)
            if skip and not skip.isdisjoint(nos):
                keep = [i for i, n in enumerate(nos) if n not in skip]
                nos, rows = [nos[i] for i in keep], [rows[i] for i in keep]
            if not all(map(any, rows)):  # some row may hold empty cells only
                keep = [i for i, r in enumerate(rows) if r.count("") != len(r)]
                nos, rows = [nos[i] for i in keep], [rows[i] for i in keep]
            if float_ in set(map(type, chain.from_iterable(rows))):
                rows = [[_cell(c) if type(c) is float_ else c for c in r] for r in rows]
            if rows:
                yield nos, rows

    def close(self) -> None:
        self._last = None
        if self._load is not None:
            self._load.join()
            self._load = None
        try:
            self._wb.close()
        except Exception:  # noqa: BLE001 - closing is best effort: the sheets were read (or failed) already
            pass


def _put_errors(rows: list[Row], done: int, first_col: int, errors: dict[int, list[tuple[int, CellError]]]) -> None:
    """Put the error cells of rows ``done``.. (0-based row indexes) back into the block, in place."""
    for r in range(done, done + len(rows)):
        for c, err in errors.get(r, ()):
            row = rows[r - done]
            i = c - first_col
            if i < 0:
                continue
            if i >= len(row):
                row.extend([""] * (i + 1 - len(row)))
            row[i] = err


def _put_shown(rows: list[Row], done: int, first_col: int, shown: dict[int, list[tuple[int, int]]],
               formats: dict[int, NumberFormat]) -> None:
    """Number cells as their format shows them (``Shown``), in place; a number the format does not render stays."""
    for r in range(done, done + len(rows)):
        cells = shown.get(r)
        if not cells:
            continue
        row = rows[r - done]
        for c, style in cells:
            i = c - first_col
            if 0 <= i < len(row):
                v = row[i]
                if type(v) is float or type(v) is int:
                    text = formats[style].render(v)
                    if text is not None:
                        row[i] = Shown(text, int(v) if type(v) is float and v.is_integer() and abs(v) < 1e15 else v)


def _blank(rows: list[Row], done: int, first_col: int, areas: list[Area]) -> None:
    """Empty the cells of ``areas`` (pivot tables) in rows ``done``.. (0-based row indexes), in place."""
    for a in areas:
        for n in range(max(a.first_row, done + 1), min(a.last_row, done + len(rows)) + 1):
            row = rows[n - 1 - done]
            lo, hi = max(0, a.first_col - first_col), min(len(row), a.last_col - first_col + 1)
            if lo < hi:
                row[lo:hi] = [""] * (hi - lo)
