"""Issue 13: real workbooks, each written the way a user's program writes it, give exactly what their
visible cells say, or a rejected row / failed file with a reason; never a wrong ``succeeded``.

Every case is one row of CASES: the committed file under fixtures/real/xlsx/ (written by
fixtures/real/make_xlsx.py with openpyxl, xlsxwriter or LibreOffice), an optional file imported
before it, and the expected status, code, stored values and .log lines.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import StoreUnderTest

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
XLSX = REAL / "xlsx"
SKILLS = "SELECT name, description FROM skills ORDER BY id"
USER_LINKS = ("SELECT u.login, u.first_name, (SELECT group_concat(q.name) FROM users__queues x JOIN queues q "
              "ON q.id = x.target WHERE x.owner = u.id), (SELECT group_concat(s.name || ':' || x.level) FROM "
              "users__skills x JOIN skills s ON s.id = x.target WHERE x.owner = u.id) FROM users u ORDER BY u.id")
DIRECTORY = "SELECT external_id, first_name, last_name, company, phone, department FROM directory_entries ORDER BY id"
KEPT = [(f"r{i}", "keep") for i in range(1, 11)] + [("ok", "fine")]
ERROR_REASON = "column Description: the cell holds the error value {} (a formula that failed"


@dataclass
class Case:
    file: str
    folder: str
    status: str
    code: str | None
    sql: str
    stored: list[tuple[Any, ...]]
    log: list[str] = field(default_factory=list)
    before: str | None = None  # a fixture (or text rows) imported first, into the same folder
    before_rows: list[list[str]] | None = None


def _skills_before(n: int) -> list[list[str]]:
    return [["Name", "Description"]] + [[f"r{i}", "keep"] for i in range(1, n + 1)]


CASES = [
    # 1. hidden sheets: the hidden lookup list first, the data on the second, visible, active sheet
    *[Case(f"hidden_lookup_first_{w}.xlsx", "Skills", "succeeded", None, SKILLS,
           [("Sales", "sells"), ("Support", "helps")],
           ["sheet 'Skills' taken as the skill sheet; sheets passed over: 'Lookup' (hidden)"])
      for w in ("openpyxl", "xlsxwriter", "libreoffice")],
    Case("very_hidden_lookup_first_openpyxl.xlsx", "Skills", "succeeded", None, SKILLS,
         [("Sales", "sells"), ("Support", "helps")], ["passed over: 'Lookup' (hidden)"]),
    *[Case(f"hidden_lists_directory_{w}.xlsx", "Directory", "succeeded", None, DIRECTORY,
           [("E1", "Ann", "Lee", None, "+358401111111", "Sales"), ("E2", "Bob", "Ray", None, "0402222222", "Support")],
           ["sheet 'Directory' taken as the directory entry sheet; sheets passed over: 'Lists' (hidden)"])
      for w in ("openpyxl", "libreoffice")],
    Case("notes_sheet_first_openpyxl.xlsx", "Skills", "succeeded", None, SKILLS,
         [("Sales", "sells"), ("Support", "helps")],
         ["sheet 'Skills' taken as the skill sheet; sheets passed over: 'Read me' (no skill header)"]),
    Case("config_hidden_skills_openpyxl.xlsx", "Configuration", "succeeded", None,
         "SELECT (SELECT group_concat(name) FROM calendars), (SELECT count(*) FROM skills)", [("Office", 0)],
         ["WARNING sheet 'Skills' is hidden and was skipped: hidden sheets are never imported",
          "INFO    hidden sheet 'Lists' skipped"]),
    # 2. error cells: a rejected row naming sheet, row, column and error; stored values untouched
    Case("errors_skills_xlsxwriter.xlsx", "Skills", "partial", "ROWS_REJECTED", SKILLS, KEPT,
         [f"REJECT  sheet 'Skills' row {i + 2} " + ERROR_REASON.format(e) for i, e in enumerate(
             ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"])],
         before_rows=_skills_before(10)),
    Case("errors_skills_openpyxl.xlsx", "Skills", "partial", "ROWS_REJECTED", SKILLS, [*KEPT[:7], ("ok", "fine")],
         [f"REJECT  sheet 'Skills' row {i + 2} " + ERROR_REASON.format(e) for i, e in enumerate(
             ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"])],
         before_rows=_skills_before(7)),
    Case("errors_skills_libreoffice.xlsx", "Skills", "partial", "ROWS_REJECTED", SKILLS, [*KEPT[:7], ("ok", "fine")],
         [f"REJECT  sheet 'Skills' row {i + 2} " + ERROR_REASON.format(e) for i, e in enumerate(
             ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?"])],
         before_rows=_skills_before(7)),
    Case("errors_users_config_xlsxwriter.xlsx", "Configuration", "partial", "ROWS_REJECTED", USER_LINKS,
         [("ann", "Ann", "Q1", "S1:3"), ("bob", "Bobby", "Q1", "S1:2")],
         ["REJECT  sheet 'Users' row 2 column Queues: the cell holds the error value #N/A"],
         before="base_users_config_openpyxl.xlsx"),
    # 5. the 1904 date system: a real date cell and a plain-number serial in a date column
    *[Case(f"date1904_{w}.xlsx", "BlockedNumbers", "succeeded", None,
           "SELECT number, valid_until FROM blocked_numbers ORDER BY id",
           [("+358401000001", "2027-12-31"), ("+358401000002", (dt.date(1904, 1, 1) + dt.timedelta(days=45000)).isoformat())])
      for w in ("openpyxl", "xlsxwriter")],
    # 6. an Excel table's totals row is not data
    *[Case(f"table_totals_{w}.xlsx", "Skills", "succeeded", None, SKILLS, [("Sales", "sells"), ("Support", "helps")],
           ["WARNING sheet 'Skills': table 'SkillTable': its totals row 4 is not data and was skipped"])
      for w in ("openpyxl", "xlsxwriter")],
    # also: today's good behaviour (merged title row, leading zeros, '+', no '.0', rich text, inline strings,
    # a formula's cached value) from three writers
    *[Case(f"good_{w}.xlsx", "Directory", "succeeded", None, DIRECTORY,
           [("007", "Anna", "Lee", "Acme", "+358401234567", "12"), ("0042", "Bob", "Ray", "Initech", "0401234567", "12")])
      for w in ("openpyxl", "xlsxwriter", "libreoffice")],
    # pandas' to_excel: NaN is an empty cell, floats keep their value, ids stay text; with pandas' default
    # index=True the row index is an unnamed first column (a warning, never data)
    *[Case(f"{name}.xlsx", "Directory", "succeeded", None, DIRECTORY,
           [("007", "Anna", "Lee", "Acme", "+358401234567", "12"), ("0042", "Bob", "Ray", None, "0401234567", "12.5")])
      for name in ("good_pandas", "good_pandas_index")],
    Case("blocked_dates_pandas.xlsx", "BlockedNumbers", "succeeded", None,
         "SELECT number, description, valid_until FROM blocked_numbers ORDER BY id",
         [("+358401000001", "one", "2027-12-31"), ("0401000002", "two", None)]),
]


def check(store: StoreUnderTest, case: Case, path: Path) -> None:
    if case.before or case.before_rows:
        first = XLSX / case.before if case.before else store.folder / "before.txt"
        if case.before_rows:
            first.write_text("\n".join("\t".join(r) for r in case.before_rows) + "\n", encoding="utf-8-sig")
        o = store.imp(first, case.folder)
        assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    o = store.imp(path, case.folder)
    text = o.log_path.read_text() if o.log_path else ""
    assert (o.status, o.error_code) == (case.status, case.code), text
    assert store.query(case.sql) == case.stored, text
    for line in case.log:
        assert line in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("case", CASES, ids=[c.file.removesuffix(".xlsx") for c in CASES])
def test_real_spreadsheet(store: StoreUnderTest, case: Case) -> None:
    check(store, case, XLSX / case.file)


def test_every_committed_fixture_is_a_case() -> None:
    sys.path.insert(0, str(REAL))
    try:
        import make_xlsx
    finally:
        sys.path.remove(str(REAL))
    used = {c.file for c in CASES} | {c.before for c in CASES if c.before}
    assert used == set(make_xlsx.FILES) == {p.name for p in XLSX.glob("*.xlsx")}


LIBREOFFICE = [c for c in CASES if "libreoffice" in c.file]


@pytest.mark.parametrize("case", LIBREOFFICE, ids=[c.file.removesuffix(".xlsx") for c in LIBREOFFICE])
def test_libreoffice_today_writes_what_the_committed_file_holds(store: StoreUnderTest, tmp_path: Path, case: Case) -> None:
    """The generator run with this machine's LibreOffice: the fresh file imports the same way."""
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing on CI: scripts/_system_deps.sh installs libreoffice-calc-nogui")
        pytest.skip("soffice not found: install Debian's libreoffice-calc-nogui (.ci/run does)")
    sys.path.insert(0, str(REAL))
    try:
        import make_xlsx
    finally:
        sys.path.remove(str(REAL))
    (fresh,) = make_xlsx.main([case.file], tmp_path / "fresh")
    check(store, case, fresh)
