"""Real spreadsheets are messy: title rows, merged headers, formulas, dates, numbers as text, huge sheets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import xlsxwriter

from aimport.worker import ImportOutcome, ImportRequest, run_import
from tests.helpers import query, write_text


def imp(tmp_path: Path, path: Path, import_type: str) -> ImportOutcome:
    return run_import(ImportRequest(path=path, import_type=import_type, import_key=path.name,
                                    system_db=tmp_path / "system.sqlite", work_dir=tmp_path / "w", actor="admin",
                                    log_path=tmp_path / f"{path.name}.log"))


def test_title_row_and_merged_header_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Skills exported 2026-11-25"
    ws.merge_cells("A1:C1")
    ws.append(["Name", "Description", None])
    ws.merge_cells("B2:C2")
    ws.append(["Sales", "sells", "ignored"])
    wb.save(tmp_path / "t.xlsx")
    o = imp(tmp_path, tmp_path / "t.xlsx", "Skills")
    assert (o.status, o.totals["created"]) == ("succeeded", 1)
    assert query(tmp_path / "system.sqlite", "SELECT name, description FROM skills") == [("Sales", "sells")]


def test_formula_value_is_used_never_the_formula(tmp_path: Path) -> None:
    p = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("Skills")
    ws.write_row(0, 0, ["Name", "Description"])
    ws.write_formula(1, 0, '="Sa"&"les"', None, "Sales")
    ws.write_formula(1, 1, "=1+2", None, 3)
    wb.close()
    o = imp(tmp_path, p, "Skills")
    assert o.status == "succeeded"
    assert query(tmp_path / "system.sqlite", "SELECT name, description FROM skills") == [("Sales", "3")]


def test_dates_as_text_and_serials_and_phone_numbers_as_text(tmp_path: Path) -> None:
    p = tmp_path / "b.xlsx"
    wb = xlsxwriter.Workbook(str(p), {"strings_to_numbers": False})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["Number", "Valid Until"])
    ws.write_string(1, 0, "0401234567")
    ws.write_string(1, 1, "2027-01-31")
    ws.write_string(2, 0, "+358401234568")
    ws.write_number(2, 1, 46388)
    ws.write_string(3, 0, "0401234569")
    ws.write_datetime(3, 1, dt.datetime(2027, 2, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_number(4, 0, 358401234570)
    ws.write_string(4, 1, "31.12.2027")
    wb.close()
    o = imp(tmp_path, p, "BlockedNumbers")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    assert query(tmp_path / "system.sqlite", "SELECT number, valid_until FROM blocked_numbers ORDER BY id") == [
        ("0401234567", "2027-01-31"), ("+358401234568", "2027-01-01"), ("0401234569", "2027-02-01"),
        ("358401234570", "2027-12-31")]


def test_trailing_empty_rows_columns_and_16384_columns(tmp_path: Path) -> None:
    p = tmp_path / "wide.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["Name", "Description"])
    ws.write_row(1, 0, ["a", "b"])
    ws.write_string(0, 16383, "Far Away")
    ws.write_string(1, 16383, "x")
    ws.write_blank(5000, 3, None, wb.add_format({"bold": True}))
    wb.close()
    o = imp(tmp_path, p, "Skills")
    assert (o.status, o.totals["rows"], o.totals["created"]) == ("succeeded", 1, 1)
    assert "unknown column 'Far Away' ignored" in (o.log_path.read_text() if o.log_path else "")


def test_longest_cell_is_rejected_with_reason(tmp_path: Path) -> None:
    p = write_text(tmp_path / "long.txt", [["Name", "Description"], ["a", "x" * 32767], ["b", "ok"]])
    o = imp(tmp_path, p, "Skills")
    assert (o.status, o.totals["created"], o.totals["rejected"]) == ("partial", 1, 1)
    assert "row 2 column Description: is 32767 characters long, the limit is 2000" in (o.log_path.read_text() if o.log_path else "")


def test_template_note_row_is_skipped(tmp_path: Path) -> None:
    from aimport.templates import write_txt

    p = write_txt("Skills", tmp_path / "skills.txt")
    with open(p, "a", encoding="utf-8") as fh:
        fh.write("\tSales\tsells\t\r\n")
    o = imp(tmp_path, p, "Skills")
    assert (o.status, o.totals["rows"], o.totals["created"]) == ("succeeded", 1, 1)
