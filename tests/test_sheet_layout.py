"""Issue 25.2-3: rows hidden in a sheet (a filter, by hand, a collapsed outline) and pivot tables.

The workbooks are written part by part as Excel stores them (``<row hidden="1">``, ``outlineLevel``,
``<autoFilter>``, pivot table parts): openpyxl and xlsxwriter do not write all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aimport.readers import open_workbook
from aimport.readers.hiddenrows import row_ranges
from tests.helpers import StoreUnderTest, log_of, query
from tests.rawxlsx import Sheet, rows_xml, write_book

SKILLS = [["Name", "Description"], ["Sales", "a"], ["Support", "b"], ["Billing", "c"], ["Legal", "d"], ["Admin", "e"]]
HIDDEN = {3: 'hidden="1"', 5: 'hidden="true"', 6: 'hidden="1" outlineLevel="1"'}  # Support, Legal, Admin


def skills(tmp_path: Path) -> list[str]:
    return [n for (n,) in query(tmp_path / "system.sqlite", "SELECT name FROM skills ORDER BY name")]


def book(path: Path, *sheets: Sheet) -> Path:
    return write_book(path, list(sheets))


def test_row_ranges() -> None:
    assert row_ranges([8, 5, 7]) == "5, 7-8"
    assert row_ranges(range(2, 100, 2), most=3) == "2, 4, 6, ..."


def test_the_reader_reports_hidden_rows(tmp_path: Path) -> None:
    filtered = Sheet("Data", rows_xml(SKILLS, HIDDEN), before='<sheetPr filterMode="1"/>',
                     after='<autoFilter ref="A1:B6"><filterColumn colId="0"><filters><filter val="Sales"/>'
                           '</filters></filterColumn></autoFilter>')
    wb = open_workbook(book(tmp_path / "h.xlsx", filtered))
    sheet = wb.sheet("Data")
    assert sheet.hidden_rows == frozenset({3, 5, 6})
    assert [n for n, _ in sheet.rows()] == [1, 2, 3, 4, 5, 6]  # the reader gives them all: staging decides
    wb = open_workbook(book(tmp_path / "v.xlsx", Sheet("Data", rows_xml(SKILLS, {2: 'hidden="0"'}),
                                                       before='<cols><col min="2" max="2" hidden="1"/></cols>')))
    assert wb.sheet("Data").hidden_rows == frozenset()  # a hidden column, a row hidden="0": no hidden row


@pytest.mark.parametrize("policy,created,rows,rejected,done", [
    ("import", 5, 5, 0, "they were imported"), ("skip", 2, 2, 0, "they were skipped"),
    ("reject", 2, 5, 3, "they were rejected"),
])
def test_hidden_data_rows_follow_the_setting(store: StoreUnderTest, tmp_path: Path, policy: str, created: int, rows: int, rejected: int,
                                             done: str) -> None:
    o = store.imp(book(tmp_path / "h.xlsx", Sheet("Data", rows_xml(SKILLS, HIDDEN))), "Skills", hidden_rows=policy)
    assert (o.totals.created, o.totals.rows, o.totals.rejected) == (created, rows, rejected), log_of(o)
    assert o.result_fields.get("hidden_rows") == 3
    assert (f"WARNING sheet 'Data': 3 rows are hidden (rows 3, 5-6); {done} "
            "(setting hidden_rows: import, skip or reject)") in log_of(o)
    expected = {"import": ["Admin", "Billing", "Legal", "Sales", "Support"]}.get(policy, ["Billing", "Sales"])
    assert skills(tmp_path) == expected
    rejects = [ln for ln in log_of(o).splitlines() if "REJECT" in ln]
    if policy == "reject":
        assert o.status == "partial"
        assert [r.split("REJECT  ")[1] for r in rejects] == [
            f"sheet 'Data' row {n}: the row is hidden in the sheet (setting hidden_rows: reject)" for n in (3, 5, 6)]
    else:
        assert rejects == [] and o.status == "succeeded"


def test_no_hidden_row_no_warning_no_count(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(book(tmp_path / "v.xlsx", Sheet("Data", rows_xml(SKILLS))), "Skills")
    assert o.totals.created == 5 and "hidden_rows" not in o.result_fields and "hidden" not in log_of(o)


def test_the_header_is_never_a_hidden_row(store: StoreUnderTest, tmp_path: Path) -> None:
    rows: list[list[Any]] = [["Name"], ["Name", "Description"], ["Sales", "a"]]
    o = store.imp(book(tmp_path / "h.xlsx", Sheet("Data", rows_xml(rows, {1: 'hidden="1"'}))), "Skills")
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1), log_of(o)
    assert "hidden" not in log_of(o)  # a hidden row above the header is not a data row
    assert query(tmp_path / "system.sqlite", "SELECT name, description FROM skills") == [("Sales", "a")]


def test_the_sheet_whose_header_is_hidden_is_not_taken(store: StoreUnderTest, tmp_path: Path) -> None:
    hidden_header = Sheet("Old", rows_xml(SKILLS[:3], {1: 'hidden="1"', 2: 'hidden="1"', 3: 'hidden="1"'}))
    o = store.imp(book(tmp_path / "two.xlsx", hidden_header, Sheet("New", rows_xml([["Name"], ["Fresh"]]))), "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Fresh"]), log_of(o)
    assert "sheet 'New' taken as the skill sheet; sheets passed over: 'Old' (no skill header)" in log_of(o)


def test_campaign_customers_hidden_rows(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["ExternalId", "Phone1"], ["C1", "+358401000001"], ["C2", "+358401000002"], ["C3", "+358401000003"]]
    p = book(tmp_path / "camp.xlsx", Sheet("Customers", rows_xml(rows, {3: 'hidden="1"'})))
    o = store.imp(p, "OutboundCampaign", hidden_rows="reject")
    assert (o.totals.rows, o.totals.created, o.totals.rejected) == (3, 2, 1), log_of(o)
    assert o.result_fields.get("hidden_rows") == 1
    assert "REJECT  sheet 'Customers' row 3: the row is hidden in the sheet" in log_of(o)
    assert "WARNING sheet 'Customers': 1 row is hidden (row 3); it was rejected (setting hidden_rows" in log_of(o)


# --- pivot tables ---

def pivot_xml(ref: str, pages: int = 0) -> str:
    page = f' rowPageCount="{pages}" colPageCount="1"' if pages else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<pivotTableDefinition xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main" name="PivotTable1" cacheId="1" dataCaption="Values">'
            f'<location ref="{ref}" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"{page}/>'
            '</pivotTableDefinition>')


# a pivot table of skills by size, in tabular form (its row field is named Name), with a page filter above it
PIVOT_ROWS: list[list[Any]] = [["Region", "(All)"], [], ["Name", "Sum of Size"], ["Sales", 10], ["Support", 5],
                               ["Grand Total", 15]]


def pivot_sheet(name: str = "Pivot") -> Sheet:
    return Sheet(name, rows_xml(PIVOT_ROWS), parts={"pivotTable": pivot_xml("A3:B6", pages=1)})


def test_pivot_table_cells_are_blanked_beside_the_data(store: StoreUnderTest, tmp_path: Path) -> None:
    rows: list[list[Any]] = [["Name", "Description", "", "Name", "Sum of Size"], ["Sales", "a", "", "Sales", 1],
                             ["Support", "b", "", "Grand Total", 1]]
    sheet = Sheet("Data", rows_xml(rows), parts={"pivotTable": pivot_xml("D1:E3")})
    o = store.imp(book(tmp_path / "p.xlsx", sheet), "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Sales", "Support"]), log_of(o)
    assert "pivot table 'PivotTable1' (D1:E3) is a summary, not data: its cells were left out" in log_of(o)
    assert "unknown column" not in log_of(o)


def test_a_sheet_of_only_a_pivot_table_is_not_a_candidate(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(book(tmp_path / "p.xlsx", pivot_sheet(), Sheet("Data", rows_xml(SKILLS[:3]))), "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Sales", "Support"]), log_of(o)
    assert "sheets passed over: 'Pivot' (no skill header)" in log_of(o)
    o = store.imp(book(tmp_path / "only.xlsx", pivot_sheet()), "Skills")
    assert (o.status, o.error_code) == ("failed", "NO_HEADER"), log_of(o)
    assert "pivot table 'PivotTable1' (A3:B6) is a summary, not data" in log_of(o)
    assert "Grand Total" not in skills(tmp_path)


def test_a_configuration_sheet_holding_a_pivot_table_imports_nothing_of_it(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(book(tmp_path / "c.xlsx", pivot_sheet("Skills")), "Configuration")
    assert o.status == "failed", log_of(o)
    assert "sheet 'Skills' skipped: no header row found" in log_of(o)
    assert not {"Row Labels", "Grand Total", "Sum of Size", "Name", "Region"} & set(skills(tmp_path))
