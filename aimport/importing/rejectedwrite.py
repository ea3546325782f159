"""The rejected rows' workbook of a partial import: written after COMMIT, ready to be fixed and dropped again.

The rows are the file's own: after the import committed, the file (still in InProcess/) is read once more,
sheet by sheet, and each rejected row (:class:`aimport.importing.rejectedscratch.RejectedRows`, in row order
on disk) is written as the reader gave it to the import, under the sheet's header row as it is in the file
and with a ``Reason`` column, which an import passes over (:mod:`aimport.importing.headers`). A text cell,
and a number cell its format shows otherwise than General (``Shown``: ``0401234567``), is written as the
text the import read; a number, date or Yes/No as what it is; an error value as an error. A Configuration
workbook gives one sheet per sheet with rejected rows, under its own name; a text file gives a
tab-delimited ``.txt`` in UTF-8 with BOM.

Memory stays flat: the rejections stream from their scratch database, the file from its reader, and an
``.xlsx`` is written by xlsxwriter in its ``constant_memory`` mode (a row at a time) through the atomic
write helper, so the work file is whole or absent. Reading stops after the last rejected row. A file that
changed since it was imported, or trouble writing, leaves no workbook and a WARNING: the outcome is
committed and stays as it is; the REJECT lines of the ``.log`` still list every row.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimport import faults
from aimport.atomicfile import replacing
from aimport.importing import filestate
from aimport.importing.headers import find_header
from aimport.importing.outcome import ImportRequest, Progress
from aimport.importing.rejectedscratch import REASON, SUFFIX, Rejected, RejectedRows, work_path
from aimport.importing.sheets import plan_sheets
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.schema import ItemType
from aimport.itemtypes.values import NUMBER_KINDS, as_text
from aimport.readers.base import DAYS_1904, CellError, RawSheet, Row, Shown, Workbook
from aimport.readers.choose import TEXT_EXTENSIONS, open_workbook

__all__ = ["write_rejected"]

XLSX_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})  # error constants
_EVERY = 2000  # rows between progress reports


class _Changed(Exception):
    """The file changed after it was imported: its rows now are not the rows that were rejected."""


@dataclass(frozen=True)
class _Sheet:
    name: str
    item: ItemType


def write_rejected(req: ImportRequest, log: ImportLog, rejected: RejectedRows,
                   progress: Progress | None = None) -> Path | None:
    """Write the rejected rows to their work file beside the work log; its path, or None when there are none
    or they could not be written (said in a WARNING). Never raises: the import has committed."""
    try:
        count = rejected.count()
        if not count:
            return None
        text = req.path.suffix.lower() in TEXT_EXTENSIONS
        ext = ".txt" if text else ".xlsx"
        out = work_path(req.work_dir, req.import_key, ext)
        with replacing(out) as tmp:
            wb = open_workbook(req.path, req.max_unzipped_bytes, req.text_fallback_encoding)
            try:
                sheets = _sheets(req, wb, rejected.sheets())
                parts = ((s, _rows(wb.sheet(s.name), s.item, rejected.of_sheet(s.name))) for s in sheets)
                (_write_text if text else _write_xlsx)(tmp, parts, req.work_dir, progress)
            finally:
                wb.close()
            state = filestate.check(req.path, req.expect, writers=False)
            if state.reason:
                raise _Changed(state.reason)
    except _Changed as exc:
        log.warning(f"the file changed after it was imported ({exc}): its rejected rows were not written to a "
                    f"{SUFFIX} file (the REJECT lines list them)")
        return None
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - the import committed: this never changes its outcome
        log.warning(f"the rejected rows could not be written to a {SUFFIX} file ({type(exc).__name__}: {exc}); "
                    "the REJECT lines list them")
        return None
    folder = req.import_type
    log.info(f"{count} rejected row(s) written to the {SUFFIX}{ext} file beside this .log in History/: correct "
             f"them there and drop that file into {folder}/ again to import just those rows (its {REASON} column "
             "is passed over)")
    faults.point("rejected_written")
    return out


def _sheets(req: ImportRequest, wb: Workbook, names: set[str]) -> list[_Sheet]:
    """The sheets with rejected rows, in the workbook's order, each with the item type it was imported as."""
    planned = {name: t for t, name in plan_sheets(req.import_type, wb, ImportLog(None)) if name in names}
    return [_Sheet(n, planned[n]) for n in wb.sheet_names() if n in planned]


@dataclass
class _Part:
    """One sheet's output: its header cells, the field kind of each cell (by index) and its rejected rows."""

    header: list[Any]
    kinds: dict[int, str]
    rows: Iterator[tuple[list[Any], Rejected]]


class _Seen:
    """An iterator of ``(row_no, row)`` pairs that remembers the last one it gave (the header row, once
    :func:`find_header` stops at it)."""

    def __init__(self, pairs: Iterator[tuple[int, Row]]) -> None:
        self._pairs = pairs
        self.last: tuple[int, Row] | None = None

    def __iter__(self) -> _Seen:
        return self

    def __next__(self) -> tuple[int, Row]:
        self.last = next(self._pairs)
        return self.last


def _pairs(raw: RawSheet) -> Iterator[tuple[int, Row]]:
    for nos, rows in raw.iter_blocks():
        yield from zip(nos, rows)


def _rows(raw: RawSheet, t: ItemType, wanted: Iterator[Rejected]) -> _Part:
    """The sheet's header and, lazily, its rejected rows as the reader gives them (hidden rows too)."""
    pairs = _Seen(_pairs(raw))
    header = find_header(t, pairs, raw.hidden_rows)
    assert pairs.last is not None and pairs.last[0] == header.row_number
    cells = list(pairs.last[1])
    while cells and cells[-1] in (None, ""):
        cells.pop()
    kinds = {i: f.kind for i, f in header.columns}
    dates = [i for i, k in kinds.items() if k in ("date", "dates")] if raw.date1904 else []
    return _Part(cells, kinds, _merge(pairs, wanted, len(cells), dates))


def _merge(pairs: Iterator[tuple[int, Row]], wanted: Iterator[Rejected], width: int,
           dates_1904: list[int]) -> Iterator[tuple[list[Any], Rejected]]:
    """The rows of ``pairs`` that ``wanted`` names (both in row order), cut to the header's ``width``; reading
    stops after the last one."""
    want = next(wanted, None)
    for no, row in pairs:
        while want is not None and want.row < no:  # not in the file any more (cannot happen: it did not change)
            want = next(wanted, None)
        if want is None:
            return
        if want.row != no:
            continue
        cells = list(row[:width]) + [None] * (width - len(row))
        for i in dates_1904:  # a plain-number date of a 1904 workbook, as the import read it
            if type(cells[i]) in (int, float):
                cells[i] += DAYS_1904
        yield cells, want
        want = next(wanted, None)


def _write_xlsx(path: Path, parts: Iterator[tuple[_Sheet, _Part]], scratch: Path, progress: Progress | None) -> None:
    import xlsxwriter  # only a worker that writes rejected rows loads it
    from xlsxwriter.exceptions import XlsxWriterException

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(scratch),
                                         "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    try:
        bold = wb.add_format({"bold": True})
        formats = {"date": wb.add_format({"num_format": "yyyy-mm-dd"}),
                   "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
                   "time": wb.add_format({"num_format": "hh:mm:ss"})}
        done = 0
        for sheet, part in parts:
            try:
                ws = wb.add_worksheet(sheet.name)
            except XlsxWriterException:  # a name Excel itself refuses (another program wrote it): made valid
                ws = wb.add_worksheet("".join("_" if ch in "[]:*?/\\" else ch for ch in sheet.name)[:31].strip("'") or None)
            width = len(part.header)
            ws.set_column(width, width, 60)
            ws.freeze_panes(1, 0)
            for c, v in enumerate(part.header):
                if v not in (None, ""):
                    ws.write_string(0, c, _text(v), bold)
            ws.write_string(0, width, REASON, bold)
            for r, (cells, why) in enumerate(part.rows, start=1):
                for c, v in enumerate(cells):
                    if v is not None and v != "":  # (the reader's empty cell)
                        _put(ws, r, c, v, part.kinds.get(c, "text"), formats)
                ws.write_string(r, width, why.text())
                done += 1
                if progress and done % _EVERY == 0:
                    progress("writing the rejected rows", done)
    finally:
        wb.close()


def _put(ws: Any, r: int, c: int, v: Any, kind: str, formats: dict[str, Any]) -> None:
    """One cell as the import read it (see the module)."""
    t = type(v)
    if t is Shown:  # the number for a number, date or Yes/No column (as parse reads it), else the text shown
        if kind in NUMBER_KINDS:
            ws.write_number(r, c, v.value, formats["date"] if kind in ("date", "dates") else None)
        else:
            ws.write_string(r, c, str.__str__(v))
    elif t is CellError:
        if v in XLSX_ERRORS:
            ws.write_formula(r, c, f"={v}", None, str.__str__(v))
        else:
            ws.write_string(r, c, str.__str__(v))
    elif t is bool:
        ws.write_boolean(r, c, v)
    elif t in (int, float):
        if math.isfinite(v):
            ws.write_number(r, c, v)
        else:
            ws.write_string(r, c, as_text(v))
    elif t is dt.datetime:
        ws.write_datetime(r, c, v.replace(tzinfo=None), formats["datetime"])
    elif t is dt.date:
        ws.write_datetime(r, c, v, formats["date"])
    elif t is dt.time:
        ws.write_datetime(r, c, v, formats["time"])
    else:
        ws.write_string(r, c, v if t is str else as_text(v))


def _write_text(path: Path, parts: Iterator[tuple[_Sheet, _Part]], scratch: Path, progress: Progress | None) -> None:
    """Tab-delimited, UTF-8 with BOM, CRLF line ends (a text file has one sheet)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, delimiter="\t", lineterminator="\r\n")
        done = 0
        for _sheet, part in parts:
            out.writerow([_text(v) for v in part.header] + [REASON])
            for cells, why in part.rows:
                out.writerow([_text(v) for v in cells] + [why.text()])
                done += 1
                if progress and done % _EVERY == 0:
                    progress("writing the rejected rows", done)


def _text(v: Any) -> str:
    """A cell's text as the reader gave it (a header cell, a text file's cell)."""
    if v is None:
        return ""
    return str.__str__(v) if isinstance(v, str) else as_text(v)
