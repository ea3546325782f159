"""What calamine does not tell: sheet visibility and kind, the 1904 date system, number formats, error cells,
table totals rows.

Read from the workbook's own XML parts with defusedxml (after ``xlsx.preflight``), and only
as far as needed: a sheet part is parsed only when its bytes hold an error cell.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import ElementTree

from aimport.readers.base import ERROR_VALUES, CellError, ReadError
from aimport.readers.numformat import NumberFormat, compile_format, format_code
from aimport.readers.package import open_part, read_part, related, rels, workbook_part

__all__ = ["BookInfo", "SheetInfo", "book_info", "col_index", "error_cells", "number_styles", "read_book",
           "totals_rows", "uncalculated_formulas"]

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# the sheet kinds (the end of the workbook relationship's type): only worksheets hold data to import
KINDS = {"worksheet": "worksheet", "xlMacrosheet": "macrosheet", "macrosheet": "macrosheet",
         "xlIntlMacrosheet": "macrosheet", "dialogsheet": "dialogsheet", "chartsheet": "chartsheet"}
UNCALCULATED = re.compile(rb"(</f>|<f [^>]*/>)\s*(<v\s*/>|<v>\s*</v>)?\s*</c>")
CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")
# an error cell (t="e"), or a value starting with # (``<v>#`` or ``<x:v>#``: a formula's cached text like an
# error); plain substring tests, which run at memchr speed where a regular expression would not
ERROR_HINTS = (b't="e"', b"v>#")


@dataclass
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # zip member, e.g. xl/worksheets/sheet1.xml ("" when the workbook does not say)
    kind: str = "worksheet"  # worksheet | macrosheet | dialogsheet | chartsheet
    rel_id: str = ""


@dataclass
class BookInfo:
    sheets: list[SheetInfo] = field(default_factory=list)
    date1904: bool = False
    book_part: str = "xl/workbook.xml"  # the workbook part (found through the package's relationships)
    styles: str = ""  # the styles part ("" : none)

    def state(self, name: str) -> str:
        return next((s.state for s in self.sheets if s.name == name), "visible")

    def part(self, name: str) -> str:
        return next((s.part for s in self.sheets if s.name == name), "")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def read_book(zf: zipfile.ZipFile) -> BookInfo:
    """Sheets (name, visibility, part, kind) in workbook order, the date system, the workbook and styles parts.

    Raises KeyError when the package has no workbook part, ReadError when a part read is damaged.
    """
    part = workbook_part(zf)
    if not part:
        raise KeyError("no workbook part (no officeDocument relationship in _rels/.rels, no xl/workbook.xml)")
    root = ElementTree.fromstring(read_part(zf, part))
    book_rels = rels(zf, part)
    info = BookInfo(book_part=part)
    info.styles = next((m for k, m in book_rels.values() if k.endswith("/styles")), "")
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":
            info.date1904 = el.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            rid = el.get(REL_ID, "")
            kind, member = book_rels.get(rid, ("", ""))
            info.sheets.append(SheetInfo(el.get("name", ""), el.get("state", "visible"), member,
                                         KINDS.get(kind.rpartition("/")[2], "worksheet"), rid))
    return info


def book_info(zf: zipfile.ZipFile) -> BookInfo:
    """:func:`read_book` for a look without the reader (the row estimate): damage raises ``zipfile.BadZipFile``."""
    try:
        return read_book(zf)
    except ReadError as exc:
        raise zipfile.BadZipFile(exc.message) from None


def number_styles(zf: zipfile.ZipFile, styles: str) -> dict[int, NumberFormat]:
    """Cell style (``s``) index -> number format, of the styles whose format shows a number otherwise than
    General (and that :mod:`numformat` renders)."""
    if not styles:
        return {}
    try:
        root = ElementTree.fromstring(read_part(zf, styles))
    except KeyError:
        return {}
    custom: dict[int, str] = {}
    out: dict[int, NumberFormat] = {}
    for el in root.iter():
        if _local(el.tag) == "numFmt" and (el.get("numFmtId") or "").isdigit():
            custom[int(el.get("numFmtId") or 0)] = el.get("formatCode", "")
    xfs = next((el for el in root if _local(el.tag) == "cellXfs"), None)
    for i, xf in enumerate(xfs if xfs is not None else ()):
        fid = xf.get("numFmtId", "0")
        code = format_code(int(fid), custom) if fid.isdigit() else None
        fmt = compile_format(code) if code else None
        if fmt is not None:
            out[i] = fmt
    return out


def col_index(letters: str) -> int:
    """0-based column index of ``A``..``XFD``."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _has_error_hint(zf: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with open_part(zf, part) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            window = tail + chunk
            if any(hint in window for hint in ERROR_HINTS):
                return True
            tail = chunk[-32:]
    return False


def error_cells(zf: zipfile.ZipFile, part: str, hinted: bool = False) -> dict[tuple[int, int], CellError]:
    """``(row index, column index)`` (0-based) -> error of every cell whose value is an error.

    A cell is an error when it is typed ``t="e"`` (Excel, LibreOffice, openpyxl), or when a formula's
    cached text is exactly an error value (xlsxwriter writes the newer ones as ``t="str"``).
    ``hinted``: the part's bytes are known to hold a hint (:func:`sheetlayout.scan_hints`): no check again.
    """
    if not part or not (hinted or _has_error_hint(zf, part)):
        return {}
    found: dict[tuple[int, int], CellError] = {}
    row, col = -1, -1
    ctype, has_formula, value = "", False, ""
    with open_part(zf, part) as fh:
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
    for root in related(zf, part, "/table"):
        count = int(root.get("totalsRowCount", "0") or 0)
        m = re.fullmatch(r"[A-Za-z]{1,3}\d+:[A-Za-z]{1,3}(\d+)", root.get("ref", ""))
        if count > 0 and m:
            last = int(m.group(1))
            out.append((root.get("displayName") or root.get("name") or "", last - count + 1, last))
    return out


def uncalculated_formulas(zf: zipfile.ZipFile, info: BookInfo) -> list[str]:
    """Worksheets holding formulas without a stored value (written by a program that does not calculate).

    Such cells read as empty: the importer uses the value Excel stored, never the formula text.
    """
    return [s.name for s in info.sheets if s.kind == "worksheet" and s.part and _scan(zf, s.part)]


def _scan(zf: zipfile.ZipFile, name: str, limit: int = 4 << 20) -> bool:
    """Look at the first ``limit`` bytes of a sheet part only (formulas are usually filled down)."""
    tail = b""
    try:
        part = open_part(zf, name)
    except KeyError:
        return False
    with part:
        for _ in range(limit >> 20):
            chunk = part.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            if b"<f" in data and UNCALCULATED.search(data):
                return True
            tail = data[-512:]
    return False
