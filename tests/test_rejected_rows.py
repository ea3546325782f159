"""A partial import leaves its rejected rows ready to fix: ``History/<stamp>_<stem>.rejected.xlsx`` (``.txt``).

The rows keep the file's own header and cells (a phone typed as text, a number its format shows with
leading zeros, a date) plus a ``Reason`` column the importer passes over; corrected and dropped back
through the real service, the file imports just those rows. The ``.result`` names the file, the jobs
view's JSON too, and it downloads; a crash on either side of writing it leaves exactly one, named.
"""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aimport.history import place_rejected
from aimport.importing.outcome import ImportRequest
from aimport.importing.rejectedscratch import RejectedRows
from aimport.importing.rejectedwrite import write_rejected
from aimport.importing.worklog import ImportLog
from aimport.settings import Settings
from aimport.web import rejectedfile
from tests.helpers import StoreUnderTest, drop, query, result_of, wait_for, write_openpyxl, write_text, write_xlsxwriter
from tests.serviceprocess import ServiceProcess

NEEDED = "one of FirstName, LastName, Company is needed"


def _history_files(service: ServiceProcess, import_type: str) -> list[Path]:
    hist = service.layout.history_dir(import_type)
    return sorted(p for p in hist.iterdir() if not p.name.endswith((".log", ".result", ".err"))
                  and not p.name.startswith("."))


def _done(service: ServiceProcess, import_type: str, name: str, count: int = 1) -> Path:
    """The History file of the ``count``-th import of ``name`` (its .result written, its audit row final)."""
    [*_, hist] = service.wait_done(import_type, name, count)
    return hist


def _rows(path: Path, sheet: str | None = None) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.active
    return [[c.value for c in r] for r in ws.iter_rows()]


def _people_workbook(path: Path) -> Path:
    """Directory entries: rows 3, 4 and 6 are rejected (no name; a phone with letters; a duplicate ExternalId)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "People"
    ws.append(["External ID", "First Name", "Last Name", "Phone", "Department", "Start"])
    ws.append(["E1", "Ann", "Lee", "+358401234567", "Sales", None])
    ws.append(["E2", None, None, "040 123 4567", 42, dt.datetime(2026, 12, 6)])
    ws["E3"].number_format = "0000"  # shown 0042: the import reads the text shown
    ws.append(["E3", "Bob", "Ray", "040 12x 4567", "Ops", None])
    ws.append(["E4", "Cid", "Day", "+358401234568", "Ops", None])
    ws.append(["E1", "Dan", "Fox", "+358401234569", "Ops", None])
    wb.save(path)
    return path


@pytest.mark.e2e
def test_a_partial_workbook_leaves_its_rejected_rows_and_they_import_once_corrected(
        service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    drop(_people_workbook(tmp_path / "people.xlsx"), service.layout.type_dir("Directory"))
    hist = _done(service, "Directory", "people.xlsx")
    res = result_of(hist)
    assert (res["status"], res["rows"], res["created"], res["rejected"]) == ("partial", "5", "2", "3")
    rejected = hist.with_name(hist.name.removesuffix(".xlsx") + ".rejected.xlsx")
    assert res["rejected_file"] == rejected.name
    assert _history_files(service, "Directory") == sorted([hist, rejected])

    wb = openpyxl.load_workbook(rejected)
    assert wb.sheetnames == ["People"]
    rows = _rows(rejected)
    assert rows[0] == ["External ID", "First Name", "Last Name", "Phone", "Department", "Start", "Reason"]
    assert rows[1][:6] == ["E2", None, None, "040 123 4567", "0042", dt.datetime(2026, 12, 6)]
    assert wb.active["F2"].number_format == "yyyy-mm-dd"
    assert rows[2][:6] == ["E3", "Bob", "Ray", "040 12x 4567", "Ops", None]
    assert rows[3][:6] == ["E1", "Dan", "Fox", "+358401234569", "Ops", None]
    assert rows[1][6] == f"row 3: {NEEDED}"
    assert rows[2][6].startswith("row 4, column Phone: '040 12x 4567' ")
    assert rows[3][6].startswith("row 6, column ExternalId: duplicate ExternalId")
    assert len(rows) == 4
    log = hist.with_name(hist.name + ".log").read_text(encoding="utf-8")
    assert "3 rejected row(s) written to the .rejected.xlsx file" in log

    [(import_id,)] = query(service.audit_db, "SELECT id FROM imports")
    with urllib.request.urlopen(f"http://{service.http}/api/imports/{import_id}", timeout=10) as r:
        assert json.loads(r.read())["rejected_file"] == rejected.name
    settings = Settings(root=service.root, state_dir=service.state, server=service.server, unit=service.unit)
    found = rejectedfile.find(settings, import_id)
    assert isinstance(found, rejectedfile.RejectedFile), found
    assert b"".join(found.chunks()) == rejected.read_bytes()
    assert found.headers()["Content-Type"] == rejectedfile.CONTENT_TYPES[".xlsx"]
    assert found.headers()["Content-Disposition"].startswith(f'attachment; filename="{rejected.name}"')
    assert rejectedfile.find(settings, import_id + 99) == "no such import"

    # corrected where they are (the Reason column stays), dropped back under the name they came with
    ws = wb.active
    ws["B2"] = "Eve"
    ws["D3"] = "+358401234570"
    ws["A4"] = "E5"
    fixed = tmp_path / rejected.name
    wb.save(fixed)
    drop(fixed, service.layout.type_dir("Directory"))
    again = _done(service, "Directory", rejected.name)
    res = result_of(again)
    assert (res["status"], res["rows"], res["created"], res["updated"], res["rejected"]) == ("succeeded", "3", "3", "0", "0")
    assert "rejected_file" not in res  # nothing rejected: no rows file
    log = again.with_name(again.name + ".log").read_text(encoding="utf-8")
    assert "Reason" not in log and "unknown column 'Start' ignored" in log  # the Reason column: not a word
    assert query(service.store_address, "SELECT external_id, first_name, phone, department FROM directory_entries "
                 "ORDER BY external_id") == [
        ("E1", "Ann", "+358401234567", "Sales"), ("E2", "Eve", "0401234567", "0042"),
        ("E3", "Bob", "+358401234570", "Ops"), ("E4", "Cid", "+358401234568", "Ops"),
        ("E5", "Dan", "+358401234569", "Ops")]
    assert len(_history_files(service, "Directory")) == 3  # the first file, its rejected rows, the corrected file
    assert not list(service.state.glob("work/*rejected*"))


@pytest.mark.e2e
def test_a_partial_text_file_leaves_a_text_file_of_its_rejected_rows(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    rows = [["ExternalId", "FirstName", "Phone", "Department"], ["T1", "Ann", "+358401234567", "0042"],
            ["T2", "Bob", "phone?", "Ops; Sales"], ["T3", "", "040 123 4567", "007"], ["T4", "Cid", "", ""]]
    drop(write_text(tmp_path / "people.txt", rows), service.layout.type_dir("Directory"))
    hist = _done(service, "Directory", "people.txt")
    res = result_of(hist)
    assert (res["status"], res["created"], res["rejected"]) == ("partial", "2", "2")
    rejected = hist.with_name(hist.name.removesuffix(".txt") + ".rejected.txt")
    assert res["rejected_file"] == rejected.name
    data = rejected.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, tab-delimited, CRLF: as the text reader reads it
    lines = [line.split("\t") for line in data[3:].decode("utf-8").split("\r\n")]
    assert lines[0] == ["ExternalId", "FirstName", "Phone", "Department", "Reason"]
    assert lines[1][:4] == ["T2", "Bob", "phone?", "Ops; Sales"] and lines[1][4].startswith("row 3, column Phone:")
    assert lines[2] == ["T3", "", "040 123 4567", "007", f"row 4: {NEEDED}"]
    assert lines[3:] == [[""]]

    fixed = tmp_path / rejected.name
    fixed.write_bytes(data.replace(b"phone?", b"+358401234571").replace(b"T3\t\t", b"T3\tDee\t"))
    drop(fixed, service.layout.type_dir("Directory"))
    res = result_of(_done(service, "Directory", rejected.name))
    assert (res["status"], res["rows"], res["created"], res["rejected"]) == ("succeeded", "2", "2", "0")
    assert query(service.store_address, "SELECT external_id, first_name, phone, department FROM directory_entries "
                 "ORDER BY external_id") == [
        ("T1", "Ann", "+358401234567", "0042"), ("T2", "Bob", "+358401234571", "Ops; Sales"),
        ("T3", "Dee", "0401234567", "007"), ("T4", "Cid", None, None)]


@pytest.mark.e2e
def test_a_configuration_workbook_gives_one_sheet_per_sheet_with_rejected_rows(
        service_on_both: ServiceProcess, tmp_path: Path) -> None:
    service = service_on_both.start()  # on each backend: the store's checks reject a row in the transaction
    wb = {
        "Skills": [["Name", "Description"], ["Sales", "sells"], ["Bad;Name", "a list separator"]],
        "Calendars": [["Name", "TimeZone", "Holidays"], ["Office", "Europe/Helsinki", dt.datetime(2026, 12, 24)],
                      ["Moon", "Mars/Base", dt.datetime(2026, 12, 25)]],
        "Queues": [["Name", "Channel"], ["Support", "Voice"]],
        "Users": [["Login", "FirstName", "Surname", "UserGroup"], ["ann", "Ann", "Lee", None],
                  ["bob", "Bob", "Ray", "NoSuchGroup"]],  # rejected by the store's checks, after staging
    }
    drop(write_openpyxl(tmp_path / "config.xlsx", wb), service.layout.type_dir("Configuration"))
    hist = _done(service, "Configuration", "config.xlsx")
    res = result_of(hist)
    assert (res["status"], res["rows"], res["created"], res["rejected"]) == ("partial", "7", "4", "3")
    rejected = hist.with_name(res["rejected_file"])
    assert rejected.name == hist.name.removesuffix(".xlsx") + ".rejected.xlsx" and rejected.is_file()
    book = openpyxl.load_workbook(rejected)
    assert book.sheetnames == ["Skills", "Calendars", "Users"]  # the file's order; Queues had none rejected
    assert _rows(rejected, "Skills") == [["Name", "Description", "Reason"],
                                         ["Bad;Name", "a list separator", _rows(rejected, "Skills")[1][2]]]
    [head, moon] = _rows(rejected, "Calendars")
    assert head == ["Name", "TimeZone", "Holidays", "Reason"]
    assert moon[:3] == ["Moon", "Mars/Base", dt.datetime(2026, 12, 25)] and moon[3].startswith("row 3, column TimeZone")
    [head, bob] = _rows(rejected, "Users")
    assert head == ["Login", "FirstName", "Surname", "UserGroup", "Reason"]
    assert bob[:4] == ["bob", "Bob", "Ray", "NoSuchGroup"] and bob[4].startswith("row 3, column UserGroup: no user group")

    book["Skills"]["A2"] = "BadName"
    book["Calendars"]["B2"] = "Europe/Berlin"
    book["Users"]["D2"] = None
    fixed = tmp_path / rejected.name
    book.save(fixed)
    drop(fixed, service.layout.type_dir("Configuration"))
    res = result_of(_done(service, "Configuration", rejected.name))
    assert (res["status"], res["rows"], res["created"], res["rejected"]) == ("succeeded", "3", "3", "0")
    assert query(service.store_address, "SELECT name FROM skills ORDER BY name") == [("BadName",), ("Sales",)]
    assert query(service.store_address, "SELECT name, time_zone FROM calendars ORDER BY name") == [
        ("Moon", "Europe/Berlin"), ("Office", "Europe/Helsinki")]
    assert query(service.store_address, "SELECT login FROM users WHERE login <> 'admin' ORDER BY login") == [("ann",), ("bob",)]


def test_no_rejected_rows_no_file_and_a_check_writes_none(store: StoreUnderTest, tmp_path: Path) -> None:
    good = write_text(tmp_path / "skills.txt", [["Name"], ["Sales"], ["Support"]])
    assert store.imp(good, "Skills").status == "succeeded"
    bad = write_text(tmp_path / "more.txt", [["Name"], ["Billing"], ["a;b"]])
    assert store.imp(bad, "Skills", dry_run=True).status == "partial"  # aimport check
    assert sorted(p.name for p in store.work_dir.iterdir()) == []  # no rows file, no scratch left
    assert store.imp(bad, "Skills", key="real").status == "partial"
    assert sorted(p.name for p in store.work_dir.iterdir()) == ["real.rejected.txt"]


def test_an_error_value_comes_back_as_an_error(store: StoreUnderTest, tmp_path: Path) -> None:
    import xlsxwriter

    from aimport.readers.base import CellError
    from aimport.readers.choose import open_workbook

    wb = xlsxwriter.Workbook(tmp_path / "skills.xlsx")
    ws = wb.add_worksheet("Skills")
    ws.write_row(0, 0, ["Name", "Description"])
    ws.write_row(1, 0, ["Sales", "sells"])
    ws.write_formula(2, 0, "=NA()", None, "#N/A")  # a lookup that found nothing
    ws.write_string(2, 1, "helps")
    wb.close()
    assert store.imp(tmp_path / "skills.xlsx", "Skills", key="k").status == "partial"
    book = open_workbook(store.work_dir / "k.rejected.xlsx")
    [(_, head), (_, row)] = list(book.sheet("Skills").rows())
    assert head == ["Name", "Description", "Reason"]
    assert type(row[0]) is CellError and row[0] == "#N/A" and row[1:2] == ["helps"]
    book.close()


def test_a_reason_column_is_passed_over_without_a_word(store: StoreUnderTest, tmp_path: Path) -> None:
    src = write_text(tmp_path / "skills.txt", [["Name", "Reason", "Colour"], ["Sales", "row 3: whatever", "red"]])
    out = store.imp(src, "Skills")
    log = (store.folder / "0.imp.log").read_text(encoding="utf-8")
    assert out.status == "succeeded"
    assert "unknown column 'Colour' ignored" in log and "Reason" not in log


def test_fifty_thousand_rejected_rows_stream_through_disk(store: StoreUnderTest, tmp_path: Path) -> None:
    """Memory stays flat: the rejections are kept in the import's scratch database, the file is read again a
    block at a time and the workbook written a row at a time (xlsxwriter's constant_memory: inline strings)."""
    n = 50_000
    rows = [["ExternalId", "FirstName", "LastName", "Phone", "Department"]]
    rows += [[f"E{i}", "", "", f"040 {i:07d}", f"Department number {i} of the company"] for i in range(n)]
    src = write_xlsxwriter(tmp_path / "people.xlsx", {"Directory": rows})
    work = tmp_path / "w"
    req = ImportRequest(path=src, import_type="Directory", import_key="k", store_address=tmp_path / "s.sqlite",
                        work_dir=work, actor="admin")
    tracemalloc.start()
    try:
        rejected = RejectedRows(work / "k.rejected.sqlite")
        for i in range(n):
            rejected.add("Directory", i + 2, None, NEEDED)
        assert rejected.count() == n and rejected.path.stat().st_size > n * 50  # on disk, not in memory
        out = write_rejected(req, ImportLog(None), rejected)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rejected.close()
    assert out == work / "k.rejected.xlsx"
    assert peak < 12 << 20, f"{peak >> 20} MiB"  # the rows themselves are more than 20 MiB as Python lists
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert sheet.count(b"<row ") == n + 1 and b't="inlineStr"' in sheet
    last = openpyxl.load_workbook(out, read_only=True).active
    assert [c.value for c in next(last.iter_rows(min_row=n + 1, max_row=n + 1))] == [
        f"E{n - 1}", None, None, f"040 {n - 1:07d}", f"Department number {n - 1} of the company", f"row {n + 1}: {NEEDED}"]


def test_a_transaction_run_again_keeps_only_its_last_run_of_rejections(tmp_path: Path) -> None:
    """As the work log does (ImportLog.restart_mark): staging's rejections stay, the store's are those of the last run."""
    log = ImportLog(tmp_path / "k.log")
    log.sink = rows = RejectedRows(tmp_path / "k.rejected.sqlite")
    log.rejected("S", 5, "Name", "staging")
    for run in ("first", "second"):
        log.restart_mark()
        log.rejected("S", 3, None, f"store, {run} run")
    assert [(r.row, r.column, r.reason) for r in rows.of_sheet("S")] == [(3, "", "store, second run"), (5, "Name", "staging")]
    assert rows.count() == 2
    rows.close()
    log.close()
    assert not rows.path.exists()


def test_the_history_copy_never_overwrites_another_file(tmp_path: Path) -> None:
    hist = tmp_path / "History"
    hist.mkdir()
    dest = hist / "20261206_101500_people.xlsx"
    work = tmp_path / "k.rejected.xlsx"
    work.write_bytes(b"rows")
    other = hist / "20261206_101500_people.rejected.xlsx"  # a file dropped as people.rejected.xlsx, same second
    other.write_bytes(b"another import's file")
    assert place_rejected(work, dest) == "20261206_101500_people.rejected (2).xlsx"
    assert other.read_bytes() == b"another import's file"
    assert place_rejected(work, dest) == "20261206_101500_people.rejected (2).xlsx"  # archived again: kept
    assert sorted(p.name for p in hist.iterdir()) == sorted([other.name, "20261206_101500_people.rejected (2).xlsx"])


CRASH_STEPS = ["rejected_written", "mid_rejected_file"]


@pytest.mark.e2e
@pytest.mark.parametrize("step", CRASH_STEPS)
def test_a_crash_around_the_rejected_rows_leaves_them_once(service_on_both: ServiceProcess, tmp_path: Path,
                                                           step: str) -> None:
    """Killed after the rows file is written in the work folder, or after it is copied to History/ but before the
    .result: after the restart the import is archived once, with its rows file named in the .result."""
    service = service_on_both
    service.env["AIMPORT_FAULT"] = step
    service.start()
    drop(_people_workbook(tmp_path / "people.xlsx"), service.layout.type_dir("Directory"))
    assert service.wait_exit(60) == -9, service.output()
    del service.env["AIMPORT_FAULT"]
    service.start()
    hist = _done(service, "Directory", "people.xlsx")
    res = result_of(hist)
    assert (res["status"], res["created"], res["rejected"]) == ("partial", "2", "3")
    rejected = hist.with_name(res["rejected_file"])
    assert rejected.name == hist.name.removesuffix(".xlsx") + ".rejected.xlsx"
    assert _history_files(service, "Directory") == sorted([hist, rejected])
    assert len(_rows(rejected)) == 4
    assert query(service.store_address, "SELECT COUNT(*) FROM directory_entries") == [(2,)]
    wait_for(lambda: not list(service.state.glob("work/*rejected*")), 10, what="the work folder emptied")
