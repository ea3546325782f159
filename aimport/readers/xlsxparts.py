"""What calamine does not tell: sheet visibility, the 1904 date system, error cells, table totals rows.

Read from the workbook's own XML parts with defusedxml (after ``xlsx.preflight``), and only
as far as needed: a sheet part is parsed only when its bytes hold an error cell.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import ElementTree

from aimport.readers.base import ERROR_VALUES, CellError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")
# an error cell (t="e"), or a value starting with # (``<v>#`` or ``<x:v>#``: a formula's cached text like an
# error); plain substring tests, which run at memchr speed where a regular expression would not
ERROR_HINTS = (b't="e"', b"v>#")


@dataclass
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # zip member, e.g. xl/worksheets/sheet1.xml ("" when the workbook does not say)


@dataclass
class BookInfo:
    sheets: list[SheetInfo] = field(default_factory=list)
    date1904: bool = False

    def state(self, name: str) -> str:
        return next((s.state for s in self.sheets if s.name == name), "visible")

    def part(self, name: str) -> str:
        return next((s.part for s in self.sheets if s.name == name), "")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, zip member) of ``part``'s relationships."""
    base, name = posixpath.split(part)
    rels_name = posixpath.join(base, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(zf.read(rels_name))
    except KeyError:
        return {}
    out = {}
    for r in root.iter(PKG_REL):
        target = r.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[r.get("Id", "")] = (r.get("Type", ""), member)
    return out


def book_info(zf: zipfile.ZipFile) -> BookInfo:
    """Sheets (name, visibility, part) in workbook order and the date system."""
    root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = _rels(zf, "xl/workbook.xml")
    info = BookInfo()
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":
            info.date1904 = el.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            part = rels.get(el.get(REL_ID, ""), ("", ""))[1]
            info.sheets.append(SheetInfo(el.get("name", ""), el.get("state", "visible"), part))
    return info


def col_index(letters: str) -> int:
    """0-based column index of ``A``..``XFD``."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _has_error_hint(zf: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with zf.open(part) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            window = tail + chunk
            if any(hint in window for hint in ERROR_HINTS):
                return True
            tail = chunk[-32:]
    return False


def error_cells(zf: zipfile.ZipFile, part: str) -> dict[tuple[int, int], CellError]:
    """``(row index, column index)`` (0-based) -> error of every cell whose value is an error.

    A cell is an error when it is typed ``t="e"`` (Excel, LibreOffice, openpyxl), or when a formula's
    cached text is exactly an error value (xlsxwriter writes the newer ones as ``t="str"``).
    """
    if not part or not _has_error_hint(zf, part):
        return {}
    found: dict[tuple[int, int], CellError] = {}
    row, col = -1, -1
    ctype, has_formula, value = "", False, ""
    with zf.open(part) as fh:
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = _local(el.tag)
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    row, col = (int(r) - 1 if r and r.isdigit() else row + 1), -1
                elif tag == "c":
                    m = CELL_REF.fullmatch(el.get("r") or "")
                    col = col_index(m.group(1)) if m else col + 1
                    if m:
                        row = int(m.group(2)) - 1
                    ctype, has_formula, value = el.get("t", "n"), False, ""
                continue
            if tag == "f":
                has_formula = True
            elif tag == "v":
                value = (el.text or "").strip()
            elif tag == "c":
                if ctype == "e" or (has_formula and ctype == "str" and value in ERROR_VALUES):
                    found[(row, col)] = CellError(value or "#N/A")
                el.clear()
            elif tag == "row":
                el.clear()
    return found


def totals_rows(zf: zipfile.ZipFile, part: str) -> list[tuple[str, int, int]]:
    """``(table name, first row, last row)`` (1-based) of every totals row of the sheet's tables."""
    if not part:
        return []
    out = []
    for kind, member in _rels(zf, part).values():
        if not kind.endswith("/table"):
            continue
        try:
            root = ElementTree.fromstring(zf.read(member))
        except KeyError:
            continue
        count = int(root.get("totalsRowCount", "0") or 0)
        m = re.fullmatch(r"[A-Za-z]{1,3}\d+:[A-Za-z]{1,3}(\d+)", root.get("ref", ""))
        if count > 0 and m:
            last = int(m.group(1))
            out.append((root.get("displayName") or root.get("name") or "", last - count + 1, last))
    return out
