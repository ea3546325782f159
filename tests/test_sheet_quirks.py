"""Real spreadsheets are messy: title rows, merged headers, formulas, dates, numbers as text, huge sheets.

Each quirk is written by both writers (openpyxl and xlsxwriter lay out the XML differently) and must
give a clear outcome: imported as meant, or a rejected row / failed file with a reason in the .log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.helpers import StoreUnderTest, log_of, write_openpyxl, write_text, write_xlsxwriter

WRITERS = pytest.mark.parametrize("writer", [write_openpyxl, write_xlsxwriter], ids=["openpyxl", "xlsxwriter"])
Writer = Callable[[Path, dict[str, Any]], Path]

pytestmark = pytest.mark.both_stores  # every test on SQLite and on PostgreSQL


@WRITERS
def test_title_row_before_the_headers(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    rows = [["Skills exported 2026-11-25"], [None], ["Name", "Description"], ["Sales", "sells"]]
    o = store.imp(writer(tmp_path / "t.xlsx", {"S": rows}), "Skills")
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1)
    o = store.imp(writer(tmp_path / "n.xlsx", {"S": [[f"title {i}"] for i in range(10)] + [["Name"], ["x"]]}), "Skills")
    assert (o.status, o.error_code) == ("failed", "NO_HEADER")
    assert "no header row found in the first 10 rows: expected columns like Id, Name, Description" in log_of(o)


def test_merged_header_cells_openpyxl(store: StoreUnderTest, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Skills exported 2026-11-25"
    ws.merge_cells("A1:C1")
    ws.append(["Name", "Description", None])
    ws.merge_cells("B2:C2")
    ws.append(["Sales", "sells", "ignored"])
    wb.save(tmp_path / "t.xlsx")
    o = store.imp(tmp_path / "t.xlsx", "Skills")
    assert (o.status, o.totals.created) == ("succeeded", 1)
    assert store.query("SELECT name, description FROM skills") == [("Sales", "sells")]


def test_merged_header_cells_xlsxwriter(store: StoreUnderTest, tmp_path: Path) -> None:
    p = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.merge_range("A1:D1", "Queues", wb.add_format({"bold": True}))
    ws.write_row(1, 0, ["Name", "Skills"])
    ws.merge_range("C2:D2", "Priority")  # a merged header cell: its value sits in the first cell
    ws.write_row(2, 0, ["Q1", None, 4])
    wb.close()
    o = store.imp(p, "Queues")
    assert (o.status, o.totals.created) == ("succeeded", 1), log_of(o)
    assert store.query("SELECT name, priority FROM queues") == [("Q1", 4)]


def test_formula_value_is_used_never_the_formula(store: StoreUnderTest, tmp_path: Path) -> None:
    p = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(p), {"strings_to_formulas": False})
    ws = wb.add_worksheet("Skills")
    ws.write_row(0, 0, ["Name", "Description"])
    ws.write_formula(1, 0, '="Sa"&"les"', None, "Sales")
    ws.write_formula(1, 1, "=1+2", None, 3)
    ws.write_string(2, 0, "=typed as text")  # text that merely starts with '=' stays text
    wb.close()
    o = store.imp(p, "Skills")
    assert o.status == "succeeded" and "formulas without a calculated value" not in log_of(o)
    assert store.query("SELECT name, description FROM skills") == [("Sales", "3"), ("=typed as text", None)]


def test_formula_without_a_calculated_value_reads_empty_with_a_warning(store: StoreUnderTest, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()  # openpyxl stores formulas but never calculates them
    ws = wb.active
    ws.title = "Skills"
    ws.append(["Name", "Description"])
    ws.append(["Sales", "=1+2"])
    ws.append(['="Bil"&"ling"', "x"])
    wb.save(tmp_path / "f.xlsx")
    o = store.imp(tmp_path / "f.xlsx", "Skills")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 1)
    text = log_of(o)
    assert "WARNING sheet 'Skills' has formulas without a calculated value" in text
    assert "row 3 column Name: Name is mandatory" in text
    assert store.query("SELECT name, description FROM skills") == [("Sales", None)]


@WRITERS
def test_dates_as_text_as_serials_and_as_dates(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    rows = [["Number", "Valid Until"], ["0401", "2027-01-31"], ["0402", 46388], ["0403", dt.datetime(2027, 2, 1)],
            ["0404", "31.12.2027"], ["0405", "20270315"], ["0406", "46400"], ["0407", "03/04/2027"], ["0408", -3]]
    o = store.imp(writer(tmp_path / "d.xlsx", {"B": rows}), "BlockedNumbers")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 6, 2), log_of(o)
    assert "row 8 column ValidUntil: '03/04/2027' is ambiguous" in log_of(o)  # 31/12/2027 reads one way only: tests/test_real_text.py
    assert "row 9 column ValidUntil: -3 is not a valid Excel date serial" in log_of(o)
    assert store.query("SELECT number, valid_until FROM blocked_numbers ORDER BY id") == [
        ("0401", "2027-01-31"), ("0402", "2027-01-01"), ("0403", "2027-02-01"), ("0404", "2027-12-31"),
        ("0405", "2027-03-15"), ("0406", "2027-01-13")]


@WRITERS
def test_numbers_stored_as_text_keep_leading_zeros_and_plus(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    rows = [["ExternalId", "Company", "Phone", "Mobile", "Department"], ["007", "ACME", "0401234567", "+358401234567", 12],
            [42, 1.5, "00358 9 1234 5678", 358401234570, "0042"]]
    o = store.imp(writer(tmp_path / "n.xlsx", {"D": rows}), "Directory")
    assert (o.status, o.totals.created) == ("succeeded", 2), log_of(o)
    assert store.query("SELECT external_id, company, phone, mobile, department FROM directory_entries ORDER BY id") == [
        ("007", "ACME", "0401234567", "+358401234567", "12"), ("42", "1.5", "+358912345678", "358401234570", "0042")]


def test_trailing_empty_rows_and_columns(store: StoreUnderTest, tmp_path: Path) -> None:
    p = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, ["Name", "Description", "", None])
    ws.write_row(1, 0, ["a", "b"])
    for r in range(2, 2000):  # formatted but empty cells, blank strings
        ws.write_blank(r, 0, None, bold)
        ws.write_string(r, 5, "")
    ws.write_blank(5000, 30, None, bold)
    wb.close()
    wb2 = openpyxl.Workbook()
    ws2 = wb2.active
    ws2.append(["Name", "Description", None, ""])
    ws2.append(["c", "d"])
    for r in range(3, 3000):
        ws2.cell(row=r, column=1).font = openpyxl.styles.Font(bold=True)
    ws2.cell(row=4000, column=60).value = ""
    wb2.save(tmp_path / "y.xlsx")
    for path in (p, tmp_path / "y.xlsx"):
        o = store.imp(path, "Skills")
        assert (o.status, o.totals.rows, o.totals.created, o.totals.rejected) == ("succeeded", 1, 1, 0), log_of(o)


@WRITERS
def test_16384_columns(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    row: list[Any] = [None] * 16384
    header = list(row)
    header[0], header[1], header[16383] = "Name", "Description", "Far Away"
    row[0], row[1], row[16383] = "a", "b", "x"
    o = store.imp(writer(tmp_path / "wide.xlsx", {"S": [header, row]}), "Skills")
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1)
    assert "unknown column 'Far Away' ignored" in log_of(o)
    assert store.query("SELECT name, description FROM skills") == [("a", "b")]


@WRITERS
def test_a_32767_character_cell(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    long = "x" * 32767
    o = store.imp(writer(tmp_path / "l.xlsx", {"S": [["Name", "Description"], ["a", long], [long, "b"], ["c", "ok"]]}), "Skills")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 2)
    text = log_of(o)
    assert "row 2 column Description: is 32767 characters long, the limit is 2000" in text
    assert "row 3 column Name: is 32767 characters long, the limit is 200" in text
    o = store.imp(writer(tmp_path / "p.xlsx", {"B": [["Number"], [long], ["1" * 32767]]}), "BlockedNumbers")
    assert (o.status, o.error_code) == ("failed", "ALL_ROWS_REJECTED")
    assert "row 2 column Number: 'xxxxxxxxxx" in log_of(o) and "... (32767 characters) is not a phone number" in log_of(o)
    assert max(len(line) for line in log_of(o).splitlines()) < 300  # the .log stays readable


def test_a_32767_character_cell_in_a_text_file(store: StoreUnderTest, tmp_path: Path) -> None:
    p = write_text(tmp_path / "long.txt", [["Name", "Description"], ["a", "x" * 32767], ["b", "ok"]])
    o = store.imp(p, "Skills")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 1)
    assert "row 2 column Description: is 32767 characters long, the limit is 2000" in log_of(o)


@WRITERS
def test_reference_loop_in_user_groups(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    o = store.imp(writer(tmp_path / "g.xlsx", {"G": [["Name", "Parent"], ["A", None], ["B", "A"], ["C", "B"]]}), "UserGroup")
    assert o.totals.created == 3
    rows = [["Name", "Parent"], ["A", "C"], ["B", "B"], ["D", "D"], ["C", "A"]]
    o = store.imp(writer(tmp_path / "loop.xlsx", {"G": rows}), "UserGroup")
    assert (o.status, o.error_code, o.totals.rejected, o.totals.updated) == ("partial", "ROWS_REJECTED", 3, 1)
    text = log_of(o)
    assert "row 2 column Parent: Parent would make a cycle (A -> C -> B -> A)" in text
    assert "row 3 column Parent: Parent would make a cycle (B -> B)" in text
    assert "row 4 column Parent: no user group named 'D'" in text
    assert store.query("SELECT g.name, p.name FROM user_groups g LEFT JOIN user_groups p ON p.id = g.parent ORDER BY g.id") == [
        ("A", None), ("B", "A"), ("C", "A")]  # C -> A is no loop once A -> C was rejected


@WRITERS
def test_configuration_workbook_without_a_known_sheet(store: StoreUnderTest, tmp_path: Path, writer: Writer) -> None:
    o = store.imp(writer(tmp_path / "c.xlsx", {"Sheet1": [["Name"], ["Sales"]], "Agents": [["Login"], ["ann"]]}), "Configuration")
    assert (o.status, o.error_code, o.totals) == ("failed", "NO_KNOWN_SHEET", None)
    assert "sheet 'Sheet1' is not a configuration sheet and was skipped" in log_of(o)


def test_template_note_row_is_skipped_but_bracketed_data_is_not(store: StoreUnderTest, tmp_path: Path) -> None:
    from aimport.workbooks.templates import write_txt

    p = write_txt("Skills", tmp_path / "skills.txt")
    with open(p, "a", encoding="utf-8", newline="") as fh:
        fh.write("\tSales\tsells\t\r\n")
    o = store.imp(p, "Skills")
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1)
    o = store.imp(write_text(tmp_path / "b.txt", [["Name", "Description"], ["[Sales]", "[team]"]]), "Skills")
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1)


def test_a_workbook_whose_every_sheet_is_hidden_fails_with_the_reason(store: StoreUnderTest, tmp_path: Path) -> None:
    """No spreadsheet program saves this (openpyxl refuses to), so the workbook part is edited by hand."""
    import zipfile

    src = tmp_path / "src.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    a = wb.add_worksheet("Sheet")
    a.write_row(0, 0, ["Name"])
    a.write_row(1, 0, ["Sales"])
    wb.add_worksheet("Lists").activate()
    a.hide()
    wb.close()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "h.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'<sheet name="Lists"', b'<sheet state="veryHidden" name="Lists"')
            zout.writestr(info, data)
    o = store.imp(tmp_path / "h.xlsx", "Skills")
    assert (o.status, o.error_code) == ("failed", "NO_ROWS"), log_of(o)
    assert "every sheet of the workbook is hidden ('Sheet', 'Lists'): hidden sheets are never imported" in log_of(o)
