"""The generic engine on Skills and Calendar: identification, mandatory fields, Delete=D, rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import StoreUnderTest, log_of, write_openpyxl, write_text, write_xlsxwriter

pytestmark = pytest.mark.both_stores  # every test on SQLite and on PostgreSQL


def skills(store: StoreUnderTest) -> list[tuple[Any, ...]]:
    return store.query("SELECT id, name, description FROM skills ORDER BY id")


@pytest.mark.parametrize("writer", [write_openpyxl, write_xlsxwriter])
def test_create_update_unchanged_delete(store: StoreUnderTest, tmp_path: Path, writer) -> None:
    f1 = writer(tmp_path / "s1.xlsx", {"Skills": [["Name", "Description"], ["Sales", "sells"], ["Support", "helps"]]})
    o = store.imp(f1, "Skills")
    assert (o.status, o.totals.created) == ("succeeded", 2)
    f2 = writer(tmp_path / "s2.xlsx", {"Skills": [["name", "DESCRIPTION", "Delete"], ["Sales", "sells more", ""],
                                                  ["Support", "helps", ""], ["Billing", "bills", ""]]})
    o = store.imp(f2, "Skills")
    assert {k: getattr(o.totals, k) for k in ("created", "updated", "unchanged")} == {"created": 1, "updated": 1, "unchanged": 1}
    f3 = write_text(tmp_path / "s3.txt", [["Name", "Delete"], ["Support", "D"], ["Nope", "d"]])
    o = store.imp(f3, "Skills")
    assert (o.status, o.error_code, o.totals.deleted, o.totals.rejected) == ("partial", "ROWS_REJECTED", 1, 1)
    assert "sheet 's3' row 3 column Delete: no existing skill matches this row, nothing to delete" in log_of(o)
    assert [r[1:] for r in skills(store)] == [("Sales", "sells more"), ("Billing", "bills")]


def test_identify_by_id_first_and_unknown_id_rejected(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_text(tmp_path / "a.txt", [["Name"], ["Sales"]]), "Skills")
    sid = skills(store)[0][0]
    o = store.imp(write_text(tmp_path / "b.txt", [["Id", "Name"], [sid, "Sales Team"], [999, "Ghost"]]), "Skills")
    assert (o.totals.updated, o.totals.rejected) == (1, 1)
    assert "row 3 column Id: Id 999 does not exist" in log_of(o)
    assert [r[1] for r in skills(store)] == ["Sales Team"]


def test_mandatory_and_missing_column(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", [["Name", "Description"], ["", "no name"], ["ok", ""]]), "Skills")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 1)
    assert "row 2 column Name: Name is mandatory" in log_of(o)
    o = store.imp(write_text(tmp_path / "b.txt", [["Description"], ["x"]]), "Skills")
    assert (o.status, o.error_code) == ("failed", "MISSING_COLUMN")
    assert "no column that identifies a skill: the header needs Id or Name" in log_of(o)


def test_unknown_column_is_a_warning(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", [["Name", "Colour"], ["x", "red"]]), "Skills")
    assert o.status == "succeeded"
    assert "WARNING sheet 'a': unknown column 'Colour' ignored" in log_of(o)


def test_calendar_values_validated(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["Name", "Time Zone", "Opening Hours", "Holidays"],
            ["Main", "Europe/Helsinki", "Mon-Fri 08:00-17:00; Sat 09:00-13:00", "2026-12-24;2026-12-25"],
            ["BadTz", "Mars/Base", "", ""], ["BadHours", "", "Mon-Fri 8-17", ""], ["BadDate", "", "", "2026-13-45"]]
    o = store.imp(write_openpyxl(tmp_path / "cal.xlsx", {"Calendars": rows}), "Calendar")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 3)
    log = log_of(o)
    assert "row 3 column TimeZone: 'Mars/Base' is not an IANA time zone" in log
    assert "row 4 column OpeningHours" in log and "row 5 column Holidays" in log
    stored = store.query("SELECT name, time_zone, opening_hours, holidays FROM calendars")
    assert stored == [("Main", "Europe/Helsinki", "Mon-Fri 08:00-17:00; Sat 09:00-13:00", "2026-12-24; 2026-12-25")]


def test_duplicates_in_one_file(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", [["Name"], ["x"], ["y"], ["x"]]), "Skills")
    assert (o.totals.created, o.totals.rejected) == (2, 1)
    assert "row 4 column Name: duplicate Name: the same skill is already in row 2" in log_of(o)


def test_check_changes_nothing(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", [["Name"], ["x"]]), "Skills", dry_run=True)
    assert (o.status, o.totals.created) == ("succeeded", 1)
    assert skills(store) == []


@pytest.mark.parametrize("rows,code", [([["Name"]], "NO_ROWS"), ([["Name"], [""], ["  "]], "NO_ROWS"),
                                       ([["Name"], [""], ["x"]], None)])
def test_header_only(store: StoreUnderTest, tmp_path: Path, rows, code) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", rows), "Skills")
    assert o.error_code == code


def test_all_rows_rejected_fails(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "a.txt", [["Id", "Name"], [5, "a"], [6, "b"]]), "Skills")
    assert (o.status, o.error_code) == ("failed", "ALL_ROWS_REJECTED")
