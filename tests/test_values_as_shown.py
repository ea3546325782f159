"""Issue 25, values as people see them: each reported case is a file stored the way Excel stores it.

The files are in fixtures/values/, written by scripts/make_value_fixtures (raw SpreadsheetML where no library
can set the feature: number formats on number cells, cached values, hidden and outline rows, AutoFilter, pivot
table parts, a workbook part elsewhere than xl/workbook.xml, an Excel 4 macro sheet, a bad CRC, the 1904 date
system). Each row of CASES imports one through the real import code path (``run_import``) into a fresh SQLite
store and checks the stored value, the REJECT line of the rejected row, the file's status and error code, the
log lines and the extra ``.result`` fields.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from aimport.importing.outcome import ImportOutcome
from tests.helpers import StoreUnderTest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "values"
SCRIPT = ROOT / "scripts" / "make_value_fixtures"

LONG = "long ids and numbers must be stored as text in the sheet"
NOT_A_FILE_OF_SKILLS = frozenset({"NO_HEADER", "WRONG_FOLDER", "MISSING_COLUMN", "NO_ROWS"})  # "NO_HEADER or similar"
DIRECTORY = "SELECT external_id, phone FROM directory_entries ORDER BY external_id"
SKILLS = "SELECT name, description FROM skills ORDER BY id"


@dataclass(frozen=True)
class Reject:
    row: int
    column: str | None  # None: the REJECT line may name any column, or none (a row-level reason)
    reason: str  # a regular expression the reason must hold (case-insensitive)


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # in fixtures/values/
    folder: str  # the import type
    region: str = ""  # ImportRequest.phone_region
    hidden: str = "import"  # ImportRequest.hidden_rows
    before: tuple[tuple[str, str], ...] = ()  # (file, folder) imported first, with the same settings
    status: str | None = None
    code: str | frozenset[str] | None = None
    stored: tuple[str, list[tuple[Any, ...]]] | None = None  # (query, its rows)
    rejects: tuple[Reject, ...] = ()
    sheet: str = ""  # the sheet the REJECT lines name (default: the folder, as the sheets are named; a text file's stem)
    lines: tuple[tuple[str, str], ...] = ()  # (level, regular expression) a log line of that level must match
    fields: dict[str, int] = field(default_factory=dict)  # outcome.result_fields that must be there


def _directory(*rows: tuple[str, str]) -> tuple[str, list[tuple[Any, ...]]]:
    return DIRECTORY, list(rows)


def _skills(*rows: tuple[str, str]) -> tuple[str, list[tuple[Any, ...]]]:
    return SKILLS, list(rows)


NONE_STORED = _directory()
E1_INTL = _directory(("E1", "+358401234567"))

CASES = [
    # the harness: cases that import right today
    Case("0-ordinary-phone-and-department", "ordinary-directory.xlsx", "Directory", status="succeeded",
         stored=("SELECT external_id, phone, department FROM directory_entries", [("E1", "+358401234567", "Sales")])),
    Case("0-ordinary-text-file", "ordinary-skills.txt", "Skills", status="succeeded", stored=_skills(("Sales", "sells"))),
    Case("0-date-in-a-1904-workbook", "date1904.xlsx", "BlockedNumbers", status="succeeded",
         stored=("SELECT number, valid_until FROM blocked_numbers", [("0401", "2027-03-15")])),
    # 1. the trunk 0 in brackets after the country code
    Case("1-trunk-prefix", "trunk-prefix.xlsx", "Directory", status="succeeded", stored=E1_INTL),
    Case("1-trunk-prefix-region-FI", "trunk-prefix.xlsx", "Directory", region="FI", status="succeeded", stored=E1_INTL),
    Case("1-trunk-prefix-utf16-text", "trunk-prefix-utf16.txt", "Directory", status="succeeded", stored=E1_INTL),
    # 2. two numbers in one cell
    Case("2-two-numbers", "two-numbers.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "Phone", r"two (phone )?numbers|one (phone )?number per cell"),)),
    Case("2-two-numbers-text", "two-numbers.txt", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "Phone", r"two (phone )?numbers|one (phone )?number per cell"),)),
    # 3. a number cell whose format shows leading zeros: the value as shown
    Case("3-format-0000000000-text-column", "format-10-zeros-description.xlsx", "Skills", status="succeeded",
         stored=_skills(("Mobile", "0401234567"))),
    Case("3-format-0000000000-externalid", "format-10-zeros-externalid.xlsx", "Directory", status="succeeded",
         stored=("SELECT external_id, first_name FROM directory_entries", [("0401234567", "Zeros")])),
    Case("3-format-0000000000-phone-region-FI", "format-10-zeros-phone.xlsx", "Directory", region="FI",
         status="succeeded", stored=E1_INTL),
    Case("3-format-0000000000-phone-no-region", "format-10-zeros-phone.xlsx", "Directory", status="succeeded",
         stored=_directory(("E1", "0401234567"))),
    Case("3-format-00000-text-column", "format-5-zeros.xlsx", "Skills", status="succeeded",
         stored=_skills(("Code", "00123"))),
    Case("3-format-text-@-on-a-number", "format-text-at.xlsx", "Skills", status="succeeded",
         stored=_skills(("Typed", "401234567"))),
    # 4. a fraction is never a phone number
    Case("4-fractional-phone", "fractional-phone.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "Phone", "fraction"), Reject(3, "Phone", "fraction"))),
    # 5. 16 digits and more: Excel keeps 15 significant digits
    Case("5-externalid-16-digits", "long-externalid-16.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "ExternalId", LONG),)),
    Case("5-externalid-1e15", "long-externalid-1e15.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "ExternalId", LONG),)),
    Case("5-externalid-20-digits", "long-externalid-20.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "ExternalId", LONG),)),
    Case("5-phone-16-digits", "long-phone-16.xlsx", "Directory", stored=NONE_STORED,
         rejects=(Reject(2, "Phone", LONG),)),
    # 6. phones typed as General numbers
    Case("6-phones-from-numbers-no-region", "general-phone-numbers.xlsx", "Directory", status="succeeded",
         stored=_directory(("E1", "401234567"), ("E2", "358401234567")),
         lines=(("WARNING", r"\brows?\b.*\b2\b"), ("WARNING", r"\brows?\b.*\b3\b")), fields={"phones_from_numbers": 2}),
    Case("6-phones-from-numbers-region-FI", "general-phone-numbers.xlsx", "Directory", region="FI", status="succeeded",
         stored=_directory(("E1", "+358401234567"), ("E2", "+358401234567"))),
    # 7. a blocked number and a customer's national number are the same stored number (the filtering itself:
    # tests/test_blocked_numbers.py)
    Case("7-blocked-number-and-customer-phone-agree", "blocked-customer.xlsx", "OutboundCampaign", region="FI",
         before=(("blocked-fi.xlsx", "BlockedNumbers"),),
         stored=("SELECT (SELECT number FROM blocked_numbers), phone1 FROM customers WHERE external_id = 'C1'",
                 [("+358507654321", "+358507654321")])),
    # 8. text columns: what the cell shows
    Case("8-cached-0.30000000000000004", "cached-float.xlsx", "Skills", status="succeeded",
         stored=_skills(("Float", "0.3"))),
    Case("8-true-false-in-text", "booleans.xlsx", "Skills", status="succeeded",
         stored=_skills(("Yes", "TRUE"), ("No", "FALSE"))),
    Case("8-general-12345-in-text", "general-int-text.xlsx", "Skills", status="succeeded",
         stored=_skills(("Int", "12345"))),
    Case("8-general-1234.5-in-text", "general-decimal-text.xlsx", "Skills", status="succeeded",
         stored=_skills(("Decimal", "1234.5"))),
    # 9. sheet layout
    Case("9-hidden-outline-subheader", "hidden-subheader.xlsx", "Skills", status="succeeded",
         stored=_skills(("Sales", "sells"), ("Support", "helps"))),
    Case("9-pivot-only-compact", "pivot-only-compact.xlsx", "Skills", status="failed", code=NOT_A_FILE_OF_SKILLS,
         stored=_skills()),
    Case("9-pivot-only-tabular", "pivot-only-tabular.xlsx", "Skills", status="failed", code=NOT_A_FILE_OF_SKILLS,
         stored=_skills()),
    Case("9-pivot-sheet-before-its-data", "pivot-before-data.xlsx", "Skills", status="succeeded",
         stored=_skills(("Sales", "sells"), ("Support", "helps"), ("Billing", "bills"))),
    Case("9-autofilter-hidden-rows-import", "autofilter.xlsx", "Skills", status="succeeded",
         stored=_skills(("Sales", "sells"), ("Billing", "bills"), ("Support", "helps"), ("Legal", "advises")),
         lines=(("WARNING", "hidden"),), fields={"hidden_rows": 2}),
    Case("9-autofilter-hidden-rows-skip", "autofilter.xlsx", "Skills", hidden="skip",
         stored=_skills(("Sales", "sells"), ("Support", "helps"))),
    Case("9-autofilter-hidden-rows-reject", "autofilter.xlsx", "Skills", hidden="reject", status="partial",
         code="ROWS_REJECTED", stored=_skills(("Sales", "sells"), ("Support", "helps")),
         rejects=(Reject(3, None, "hidden"), Reject(5, None, "hidden"))),
    # 10. packages
    Case("10-workbook-part-xl-book-xml", "book-xml.xlsx", "Skills", status="succeeded",
         stored=_skills(("Sales", "sells"), ("Support", "helps"))),
    Case("10-xlsm-with-excel4-macro-sheet", "macro-sheet.xlsm", "Skills", status="succeeded",
         stored=_skills(("Sales", "sells"), ("Support", "helps")),
         lines=(("INFO", r"Macro1.*macro|macro.*Macro1"),)),
    Case("10-bad-crc-in-a-sheet-part", "bad-crc.xlsx", "Skills", status="failed", code="NOT_A_WORKBOOK",
         stored=_skills(), lines=(("ERROR", r"damaged workbook.*xl/worksheets/sheet1\.xml|"
                                           r"xl/worksheets/sheet1\.xml.*damaged workbook"),)),
    # 11. an old Mac Excel text file
    Case("11-macroman-cr-only-text", "macroman.txt", "Skills", status="succeeded", stored=_skills(("Café", "coffee")),
         lines=(("WARNING", r"Mac ?(OS )?Roman"),)),
]

LOG_LINE = re.compile(r"^\S+ \S+ (\w+)\s+(.*)$")


def _import(store: StoreUnderTest, case: Case, name: str, folder: str) -> ImportOutcome:
    path = store.folder / name
    shutil.copyfile(FIXTURES / name, path)  # the campaign is named after the file
    return store.imp(path, folder, phone_region=case.region, hidden_rows=case.hidden)


def _lines(o: ImportOutcome) -> list[tuple[str, str]]:
    text = o.log_path.read_text(encoding="utf-8") if o.log_path and o.log_path.exists() else o.log_text
    return [(m[1], m[2]) for m in map(LOG_LINE.match, text.splitlines()) if m]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_value_as_shown(store: StoreUnderTest, case: Case) -> None:
    for name, folder in case.before:
        o = _import(store, case, name, folder)
        assert o.status == "succeeded", _lines(o)
    o = _import(store, case, case.file, case.folder)
    lines = _lines(o)
    log = "\n".join(f"{level} {text}" for level, text in lines)
    why = f"status {o.status}, code {o.error_code}, result_fields {o.result_fields}; the log:\n{log}"
    assert o.error_code != "INTERNAL_ERROR", why
    if case.status is not None:
        assert o.status == case.status, why
    if isinstance(case.code, frozenset):
        assert o.error_code in case.code, why
    elif case.code is not None:
        assert o.error_code == case.code, why
    sheet = case.sheet or (Path(case.file).stem if case.file.endswith(".txt") else case.folder)
    for r in case.rejects:
        where = rf"sheet '{re.escape(sheet)}' row {r.row}"
        where += rf" column {r.column}: " if r.column else r"(?: column \w+)?: "
        assert any(level == "REJECT" and re.match(where, text) and re.search(r.reason, text, re.I)
                   for level, text in lines), f"no REJECT line {where!r} holding {r.reason!r}; {why}"
    for level, pattern in case.lines:
        assert any(lv == level and re.search(pattern, text, re.I) for lv, text in lines), \
            f"no {level} line matching {pattern!r}; {why}"
    for name, count in case.fields.items():
        assert str(o.result_fields.get(name)) == str(count), f".result field {name}: {count} expected; {why}"
    if case.stored is not None:
        sql, rows = case.stored
        assert store.query(sql) == rows, why


# --- the fixtures themselves ----------------------------------------------------------------------------------

def test_every_fixture_has_a_case() -> None:
    used = {c.file for c in CASES} | {name for c in CASES for name, _ in c.before}
    on_disk = {p.name for p in FIXTURES.iterdir()} - {"README.md"}
    assert on_disk == used


def test_committed_fixtures_are_what_the_script_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True, timeout=120)
    made = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in FIXTURES.iterdir()}
    assert sorted(made) == sorted(committed), "run scripts/make_value_fixtures and commit fixtures/values/"
    assert [n for n in made if made[n] != committed[n]] == [], "run scripts/make_value_fixtures and commit fixtures/values/"


def _copy_parts(src: Path, dest: Path, edit: Any) -> Path:
    """``src`` with each part rewritten by ``edit(name, data) -> (name, data) | None`` (None drops the part)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            out = edit(info.filename, zin.read(info))
            if out is not None:
                zout.writestr(out[0], out[1])
    return dest


def _standard_workbook_part(name: str, data: bytes) -> tuple[str, bytes]:
    name = {"xl/book.xml": "xl/workbook.xml", "xl/_rels/book.xml.rels": "xl/_rels/workbook.xml.rels"}.get(name, name)
    return name, data.replace(b"xl/book.xml", b"xl/workbook.xml")


def _without_macro_sheet(name: str, data: bytes) -> tuple[str, bytes] | None:
    if name.startswith("xl/macrosheets/"):
        return None
    data = re.sub(rb'<sheet name="Macro1"[^>]*/>', b"", data)
    data = re.sub(rb'<Relationship [^>]*xlMacrosheet[^>]*/>', b"", data)
    return name, re.sub(rb'<Override PartName="/xl/macrosheets/[^>]*/>', b"", data)


# calamine cannot open these two (it looks for xl/workbook.xml by name, and knows no macro sheets): a reader
# must work around it; what calamine reads is checked on a copy with that one thing made standard
CALAMINE_CANNOT = {"book-xml.xlsx": _standard_workbook_part, "macro-sheet.xlsm": _without_macro_sheet}


def _feature(wb: openpyxl.Workbook, name: str) -> Any:
    """What openpyxl sees of the feature the file is about (None: nothing particular to check)."""
    ws = wb.worksheets[0]
    fmt = {"format-10-zeros-description.xlsx": ("B2", "0000000000"), "format-10-zeros-externalid.xlsx": ("A2", "0000000000"),
           "format-10-zeros-phone.xlsx": ("C2", "0000000000"), "format-5-zeros.xlsx": ("B2", "00000"),
           "format-text-at.xlsx": ("B2", "@")}
    if name in fmt:
        ref, code = fmt[name]
        return ws[ref].number_format == code and isinstance(ws[ref].value, int)
    if name == "hidden-subheader.xlsx":
        return ws.row_dimensions[2].hidden and ws.row_dimensions[2].outlineLevel == 1
    if name == "autofilter.xlsx":
        return ws.auto_filter.ref == "A1:B5" and [r for r in range(1, 6) if ws.row_dimensions[r].hidden] == [3, 5]
    if name.startswith("pivot-"):
        return [p.location.ref for p in wb["Pivot"]._pivots] == ["A3:B7"]
    if name == "date1904.xlsx":
        return wb.epoch.year == 1904
    if name == "macro-sheet.xlsm":
        return wb.sheetnames == ["Macro1", "Skills"]
    if name == "booleans.xlsx":
        return (ws["B2"].value, ws["B3"].value) == (True, False)
    if name == "cached-float.xlsx":
        return ws["B2"].value == "=0.1+0.2"
    return None


WORKBOOKS = sorted(p.name for p in FIXTURES.glob("*.xls*") if p.name != "bad-crc.xlsx")


@pytest.mark.parametrize("name", WORKBOOKS)
def test_workbook_fixture_is_valid(tmp_path: Path, name: str) -> None:
    path = FIXTURES / name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a part openpyxl does not understand is a warning
        wb = openpyxl.load_workbook(path, keep_vba=name.endswith(".xlsm"))
    assert _feature(wb, name) in (True, None)
    if name in CALAMINE_CANNOT:
        with pytest.raises(Exception):  # noqa: B017 - calamine's own error types
            CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Skills").to_python()
        path = _copy_parts(path, tmp_path / name.replace(".xlsm", ".xlsx"), CALAMINE_CANNOT[name])
    cw = CalamineWorkbook.from_path(str(path))
    sheets = {n: cw.get_sheet_by_name(n).to_python() for n in cw.sheet_names}
    assert sheets == {ws.title: [[c for c in r] for r in _openpyxl_values(ws)] for ws in
                      openpyxl.load_workbook(path, data_only=True).worksheets}
    if name == "cached-float.xlsx":
        assert sheets["Skills"][1] == ["Float", 0.30000000000000004]


def _openpyxl_values(ws: Any) -> list[list[Any]]:
    """The sheet's rows as calamine gives them: from the first used row, '' for an empty cell, numbers as floats."""
    def cell(v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, dt.datetime) and v == dt.datetime.combine(v.date(), dt.time()):
            return v.date()
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    rows = [[cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    while rows and not any(c != "" for c in rows[0]):
        rows.pop(0)
    return rows


def test_damaged_fixture_has_one_bad_crc() -> None:
    with zipfile.ZipFile(FIXTURES / "bad-crc.xlsx") as zf:
        assert zf.testzip() == "xl/worksheets/sheet1.xml"
        assert {i.filename for i in zf.infolist()} >= {"xl/workbook.xml", "xl/worksheets/sheet1.xml"}


def test_text_fixtures_are_what_they_say() -> None:
    mac = (FIXTURES / "macroman.txt").read_bytes()
    assert b"Caf\x8e" in mac and b"\n" not in mac and mac.count(b"\r") == 2 and not mac.startswith(b"\xef\xbb\xbf")
    utf16 = (FIXTURES / "trunk-prefix-utf16.txt").read_bytes()
    assert utf16.startswith(b"\xff\xfe") and "+358 (0)40 123 4567" in utf16.decode("utf-16")
