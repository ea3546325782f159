"""Issue 25.1: a number cell comes out of the reader as its number format shows it (``Shown``)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from aimport.importing.outcome import ImportRequest
from aimport.importing.run import run_import
from aimport.readers import open_workbook
from aimport.readers.base import Shown
from aimport.readers.numformat import compile_format, render
from aimport.readers.sheetlayout import Hints, scan_hints
from aimport.readers.xlsxparts import number_styles
from tests.helpers import query
from tests.rawxlsx import Cell, Sheet, rows_xml, styles_xml, write_book


@pytest.mark.parametrize("code,value,shown", [
    ("0000000000", 401234567, "0401234567"),
    ("00000", 123, "00123"),
    ("0.00", 40.5, "40.50"),
    ("0.00", 2.675, "2.68"),  # 15 significant digits, half away from zero, as Excel
    ("0.00", -2.675, "-2.68"),
    ("#,##0", 1234, "1,234"),
    ("#,##0", 1234567.4, "1,234,567"),
    ("#,##0", 0, "0"),
    ("#,##0.00", 1234.5, "1,234.50"),
    ("0,000,000", 12, "0,000,012"),
    ("0", 40.5, "41"),
    ("#", 0, ""),
    ("#.00", 0.5, ".50"),
    ("#.##", 1, "1."),
    ("0.0#", 1.5, "1.5"),
    ("0.0?", 1.5, "1.5 "),
    ("???", 5, "  5"),
    ('"+"0', 358401234567, "+358401234567"),
    ("000-000", 12345, "012-345"),
    ("000-000", 1234567, "1234-567"),
    ("\\(0\\)0", 12, "(1)2"),
    ("(000) 000-0000", 5551234567, "(555) 123-4567"),
    ("0%", 0.25, "25%"),
    ("0.0%", 0.1234, "12.3%"),
    ("#,##0,", 1234567, "1,235"),
    ("0.0,,", 1234567, "1.2"),
    ("0.00;(0.00);\"zero\"", -3, "(3.00)"),
    ("0.00;(0.00);\"zero\"", 0, "zero"),
    ("0.00;(0.00);\"zero\"", 3, "3.00"),
    ("0;-0;;@", 0, ""),
    ("0;[Red]0", -5, "5"),
    ("0", -5, "-5"),
    ("\"$\"#,##0", -5, "-$5"),
    ("[Red]0.00", 1.5, "1.50"),
    ("[$-409]#,##0.00", 1.5, "1.50"),
    ("#,##0.00 [$€-40B]", 1234.5, "1,234.50 €"),
    ("[$€-40B] #,##0.00", 1234.5, "€ 1,234.50"),
    ("#,##0_);(#,##0)", 1234, "1,234 "),
    ("#,##0_);(#,##0)", -1234, "(1,234)"),
    ("* #,##0", 1234, "1,234"),
    ("#,##0 ;(#,##0)", 1234, "1,234 "),
    ("_-* #,##0.00 €_-;-* #,##0.00 €_-;_-* \"-\"?? €_-;_-@_-", -3, "-3.00 € "),
    ("General;[Red]-General", -3.5, "-3.5"),
    ("\"Tel. \"0", 40123, "Tel. 40123"),
    ("0.00", 0.001, "0.00"),
    ("0.00", -0.001, "0.00"),
    ("0.00", 1e15, "1000000000000000.00"),
])
def test_renders_as_excel_shows(code: str, value: float, shown: str) -> None:
    assert render(code, value) == shown


@pytest.mark.parametrize("code", [
    "General", "general", "@", "", "yyyy-mm-dd", "d.m.yyyy", "[h]:mm", "h:mm AM/PM", "mm:ss", "[$-409]mmmm d, yyyy",
    "0.00E+00", "##0.0E+0", "# ?/?", "# ??/??", "[>100]0;0", "[DBNum1]0",
])
def test_formats_that_need_no_rendering_or_are_not_rendered(code: str) -> None:
    assert compile_format(code) is None


# --- the reader: number cells of a workbook written as Excel writes it (a style's numFmt on a number cell) ---

def _book(tmp_path: Path, rows: list[list[Any]], formats: list[int | str], attrs: dict[int, str] | None = None) -> Path:
    return write_book(tmp_path / "f.xlsx", [Sheet("Data", rows_xml(rows, attrs))], styles=styles_xml(formats))


def _cells(path: Path) -> list[tuple[int, list[Any]]]:
    wb = open_workbook(path)
    try:
        return list(wb.sheet(wb.sheet_names()[0]).rows())
    finally:
        wb.close()


def test_number_cells_come_out_as_shown(tmp_path: Path) -> None:
    # styles: 1 0000000000, 2 00000, 3 0.00, 4 #,##0 (builtin 3), 5 "+"0, 6 0% (builtin 9), 7 a date (builtin 14),
    # 8 @ (builtin 49), 9 General (custom), 10 scientific (builtin 11), 11 \(0\)0
    p = _book(tmp_path, [
        ["Phone", "Zip", "Size", "Count", "Intl", "Share", "When", "Text", "Plain", "Sci", "Paren"],
        [Cell(401234567, 1), Cell(123, 2), Cell(40.5, 3), Cell(1234, 4), Cell(358401234567, 5), Cell(0.25, 6),
         Cell(45000, 7), Cell(5, 8), Cell(7, 9), Cell(1234.5, 10), Cell(12, 11)],
        [Cell("0401", 1), Cell(True, 2), 42, Cell(-1234.4, 4), "", "", "", "", "", "", ""],
    ], ["0000000000", "00000", "0.00", 3, '"+"0', 9, 14, 49, "General", 11, "\\(0\\)0"])
    rows = _cells(p)
    row2 = rows[1][1]
    assert row2[:6] == ["0401234567", "00123", "40.50", "1,234", "+358401234567", "25%"]
    assert all(isinstance(c, Shown) for c in row2[:6]) and isinstance(row2[10], Shown) and row2[10] == "(1)2"
    assert [c.value for c in row2[:6]] == [401234567, 123, 40.5, 1234, 358401234567, 0.25]
    assert type(row2[0].value) is int  # a whole number is an int, as plain number cells are
    assert row2[6].isoformat() == "2023-03-15"  # a date format: calamine's date, never a Shown
    assert [type(c) for c in row2[7:10]] == [int, int, float]  # @, General, scientific: the plain number
    row3 = rows[2][1]
    assert row3[:4] == ["0401", True, 42, "-1,234"]  # text and booleans with a number format stay as they are
    assert [type(c) for c in row3[:3]] == [str, bool, int]


def test_the_sheet_is_not_scanned_without_a_formatted_number_style(tmp_path: Path) -> None:
    """The byte hint: styles whose format needs no rendering (a date, General, @) never make the sheet be parsed."""
    p = _book(tmp_path, [["Name", "When"], ["a", Cell(45000, 1)], ["b", Cell(3, 2)]], [14, 49])
    with zipfile.ZipFile(p) as zf:
        formats = number_styles(zf, "xl/styles.xml")
        assert formats == {}
        assert scan_hints(zf, "xl/worksheets/sheet1.xml", formats) == Hints()
    p = _book(tmp_path, [["Name", "Phone"], ["a", Cell(401234567, 1)]], ["0000000000"])
    with zipfile.ZipFile(p) as zf:
        formats = number_styles(zf, "xl/styles.xml")
        assert list(formats) == [1]
        assert scan_hints(zf, "xl/worksheets/sheet1.xml", formats).styled


def test_a_formatted_number_in_a_text_column_is_stored_as_shown(tmp_path: Path) -> None:
    p = _book(tmp_path, [["Name", "Description"], [Cell(123, 1), Cell(40.5, 2)]], ["00000", "0.00"])
    o = run_import(ImportRequest(path=p, import_type="Skills", import_key=p.name,
                                 store_address=tmp_path / "system.sqlite", work_dir=tmp_path / "w", actor="admin",
                                 log_path=tmp_path / "f.log"))
    assert (o.status, o.totals.created) == ("succeeded", 1), (tmp_path / "f.log").read_text()
    assert query(tmp_path / "system.sqlite", "SELECT name, description FROM skills") == [("00123", "40.50")]


@pytest.mark.parametrize("value", [0.5, 1.005, 2.675, 1234.5678, 0.125, 99.995, 1e-7, 123456789.125, 0.3 + 0.6])
@pytest.mark.parametrize("code", ["0", "0.00", "#,##0.0", "0.000#", "0%", "0.0%", "#,##0,", "\"x\"0.00\"y\""])
def test_the_fast_paths_agree_with_the_general_one(code: str, value: float) -> None:
    """Whole numbers, numbers that need no rounding, rounding on the digits: the same text as Decimal gives."""
    from decimal import ROUND_HALF_UP, Decimal

    fmt = compile_format(code)
    assert fmt is not None
    sec = fmt.sections[0]
    d = Decimal(f"{value:.15g}").scaleb(sec.shift).quantize(Decimal(1).scaleb(-len(sec.frac_places)), ROUND_HALF_UP)
    ip, _, fp = format(d, "f").partition(".")
    digits = (ip.lstrip("0") or "0") + ("." + fp if fp else "")
    shown = fmt.render(value)
    assert shown is not None
    assert shown.replace(",", "").strip("xy%").lstrip("0").startswith(digits.lstrip("0").rstrip("0").rstrip(".")), (
        shown, digits)
