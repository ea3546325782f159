"""Excel .xlsx reader: calamine (Rust) for speed, after zip and XML safety checks."""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterator, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from aimport.readers.base import BLOCK_ROWS, Block, CellError, RawSheet, ReadError, Row
from aimport.readers.xlsxparts import book_info, error_cells, totals_rows

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def preflight(path: Path, max_unzipped_bytes: int) -> None:
    """Refuse what is not a safe workbook before any XML is parsed."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except PermissionError:
        raise ReadError("FILE_UNREADABLE", "the file cannot be read (permission denied)") from None
    if not magic:
        raise ReadError("EMPTY_FILE", "the file is empty")
    if magic == CFB_MAGIC:
        raise ReadError(
            "ENCRYPTED_WORKBOOK",
            "the workbook is password-protected or in the old binary format: remove the "
            "password and save it as Excel Workbook (.xlsx)",
        )
    if not zipfile.is_zipfile(path):
        raise ReadError("NOT_A_WORKBOOK", "the file is not an Excel workbook (it is not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise ReadError("NOT_A_WORKBOOK", "the zip archive is not an Excel workbook (no xl/workbook.xml)")
            total = sum(i.file_size for i in infos)
            if total > max_unzipped_bytes:
                raise ReadError(
                    "TOO_LARGE",
                    f"the workbook unpacks to {total // (1 << 20)} MB, above the limit of "
                    f"{max_unzipped_bytes // (1 << 20)} MB (--max-unzipped-mb)",
                )
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as part:
                        head = part.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise ReadError(
                            "UNSAFE_XML",
                            f"the workbook part {info.filename} declares XML entities (possible XML bomb); refused",
                        )
    except zipfile.BadZipFile as exc:
        raise ReadError("NOT_A_WORKBOOK", f"the workbook archive is damaged: {exc}") from None


UNCALCULATED = re.compile(rb"(</f>|<f [^>]*/>)\s*(<v\s*/>|<v>\s*</v>)?\s*</c>")


def uncalculated_formulas(path: Path) -> list[str]:
    """Sheets holding formulas without a stored value (written by a program that does not calculate).

    Such cells read as empty: the importer uses the value Excel stored, never the formula text.
    """
    with zipfile.ZipFile(path) as zf:
        parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        hits = [n for n in parts if _scan(zf, n)]
        if not hits:
            return []
        try:
            rels = {r.get("Id"): r.get("Target", "").lstrip("/").removeprefix("xl/")
                    for r in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
            ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
            names = {"xl/" + rels.get(sh.get(ns), ""): sh.get("name", "") for sh in ElementTree.fromstring(
                zf.read("xl/workbook.xml")).iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")}
        except (KeyError, ElementTree.ParseError):
            names = {}
        return [names.get(n) or n for n in hits]


def _scan(zf: zipfile.ZipFile, name: str, limit: int = 4 << 20) -> bool:
    """Look at the first ``limit`` bytes of a sheet part only (formulas are usually filled down)."""
    tail = b""
    with zf.open(name) as part:
        for _ in range(limit >> 20):
            chunk = part.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            if b"<f" in data and UNCALCULATED.search(data):
                return True
            tail = data[-512:]
    return False


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


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


class XlsxWorkbook:
    def __init__(self, path: Path, max_unzipped_bytes: int) -> None:
        from python_calamine import CalamineWorkbook

        preflight(path, max_unzipped_bytes)
        self.path = path
        self.warnings: list[str] = []
        try:
            with zipfile.ZipFile(path) as zf:
                self._info = book_info(zf)
        except (KeyError, ElementTree.ParseError, ValueError) as exc:
            raise ReadError("NOT_A_WORKBOOK", f"the workbook cannot be read: xl/workbook.xml: {exc}") from None
        try:
            self._wb = CalamineWorkbook.from_path(str(path))
            names = list(self._wb.sheet_names)
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
            raise ReadError("NOT_A_WORKBOOK", f"the workbook cannot be read: {exc}") from None
        self.hidden = {n: self._info.state(n) for n in names if self._info.state(n) != "visible"}
        self._names = [n for n in names if n not in self.hidden]
        self._last: tuple[str, Any] | None = None  # the sheet loaded last (a sheet is often asked for twice)
        # the first sheet loads while the formula scan below runs (the workbook is busy until it is done)
        self._load: _Load | None = _Load(self._wb, self._names[0]) if self._names else None
        for sheet in uncalculated_formulas(path):
            if sheet not in self.hidden:
                self.warnings.append(f"sheet {sheet!r} has formulas without a calculated value (the file was written "
                                     "by a program that does not calculate): they read as empty; open and save it in "
                                     "Excel first")

    def sheet_names(self) -> list[str]:
        """The visible sheets, in workbook order (hidden and very hidden sheets are never imported)."""
        return list(self._names)

    def sheet(self, name: str) -> RawSheet:
        part = self._info.part(name)
        try:
            with zipfile.ZipFile(self.path) as zf:
                totals = totals_rows(zf, part)
        except (KeyError, ElementTree.ParseError, ValueError) as exc:
            raise ReadError("NOT_A_WORKBOOK", f"sheet {name!r}: a table part cannot be read: {exc}") from None
        skip = {r for _, lo, hi in totals for r in range(lo, hi + 1)}
        notes = [f"table {table!r}: its totals row {lo if lo == hi else f'{lo}-{hi}'} is not data and was skipped"
                 for table, lo, hi in totals]
        return RawSheet(name=name, rows=lambda: self._rows(name, skip), blocks=lambda: self._blocks(name, skip),
                        warnings=notes, date1904=self._info.date1904)

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
            raise ReadError("NOT_A_WORKBOOK", f"sheet {name!r} cannot be read: {load.error}") from None
        self._last = (name, load.sheet)
        return load.sheet

    def _errors(self, name: str) -> dict[int, list[tuple[int, CellError]]]:
        """Row index -> (column index, error) of the sheet's error cells (0-based, as in the sheet)."""
        try:
            with zipfile.ZipFile(self.path) as zf:
                found = error_cells(zf, self._info.part(name))
        except (KeyError, ElementTree.ParseError, ValueError, zipfile.BadZipFile) as exc:
            raise ReadError("NOT_A_WORKBOOK", f"sheet {name!r} cannot be read: {exc}") from None
        by_row: dict[int, list[tuple[int, CellError]]] = {}
        for (r, c), err in found.items():
            by_row.setdefault(r, []).append((c, err))
        return by_row

    def _rows(self, name: str, skip: set[int]) -> Iterator[tuple[int, Row]]:
        for nos, rows in self._blocks(name, skip):
            yield from zip(nos, rows)

    def _blocks(self, name: str, skip: set[int]) -> Iterator[Block]:
        """Blocks of (row numbers, rows); rows of empty cells only are left out, whole floats become ints.

        calamine yields rows from the sheet's first row (row 1) but columns from the
        first used column; the shift is the same for header and data rows. calamine reads
        error cells as empty: they are put back as CellError; table totals rows (``skip``) are left out.
        """
        self._start(name)
        errors = self._errors(name)  # unpacks the sheet part while calamine loads it on the other core
        sheet = self._sheet(name)
        it = sheet.iter_rows()
        first_col = sheet.start[1] if errors and sheet.start else 0
        float_ = float
        done = 0
        while True:
            rows = list(islice(it, BLOCK_ROWS))
            if not rows:
                return
            nos: Sequence[int] = range(done + 1, done + 1 + len(rows))
            if errors:
                _put_errors(rows, done, first_col, errors)
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
