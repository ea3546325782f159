"""Typed outcomes: error codes, the error base class, totals, and transient store trouble from real SQLite errors."""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from aimport.errors import BY_CODE, ERROR_CODES, CodedError, ErrorCode, store_trouble
from aimport.importing.headers import HeaderError
from aimport.importing.outcome import FileFailure, ImportOutcome, ImportRequest, SheetTotals, Status, Totals
from aimport.importing.run import IMPORTERS, run_import
from aimport.readers.base import ReadError
from aimport.service.importjob import is_transient
from tests.helpers import write_text

REPO = Path(__file__).resolve().parents[1]


def driver_error(action: Callable[[], object]) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as info:
        action()
    return info.value


def test_a_locked_store_is_trouble(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        exc = driver_error(lambda: other.execute("INSERT INTO t VALUES (1)"))
        assert exc.sqlite_errorname == "SQLITE_BUSY" and store_trouble(exc)  # type: ignore[attr-defined]
    finally:
        other.close()
        holder.close()


def test_a_read_only_store_is_trouble(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        exc = driver_error(lambda: ro.execute("INSERT INTO t VALUES (1)"))
        assert exc.sqlite_errorname == "SQLITE_READONLY" and store_trouble(exc)  # type: ignore[attr-defined]
    finally:
        ro.close()


def test_a_store_that_cannot_be_opened_is_trouble(tmp_path: Path) -> None:
    exc = driver_error(lambda: sqlite3.connect(tmp_path / "no" / "such" / "dir.sqlite"))
    assert exc.sqlite_errorname == "SQLITE_CANTOPEN" and store_trouble(exc)  # type: ignore[attr-defined]


def test_statement_and_data_errors_are_not_trouble_whatever_their_text(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    conn.execute("CREATE TABLE t (x UNIQUE)")
    conn.execute("INSERT INTO t VALUES (1)")
    assert not store_trouble(driver_error(lambda: conn.execute("SELECT * FROM no_such_table")))
    assert not store_trouble(driver_error(lambda: conn.execute("INSERT INTO t VALUES (1)")))
    conn.close()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database, and locked read-only busy disk is full" * 100)
    junk = sqlite3.connect(tmp_path / "junk.sqlite")
    assert not store_trouble(driver_error(lambda: junk.execute("SELECT * FROM sqlite_master")))
    junk.close()
    # the text is not read: an error that only says "locked" is not the driver's word for it
    assert not store_trouble(sqlite3.OperationalError("database is locked"))
    assert not store_trouble(OSError("database is locked"))


def request(tmp_path: Path, path: Path, store_address: Path) -> ImportRequest:
    return ImportRequest(path=path, import_type="Skills", import_key="k1", store_address=store_address,
                         work_dir=tmp_path / "work", actor="admin", log_path=tmp_path / "k1.log")


def test_a_store_that_cannot_be_opened_is_retried(tmp_path: Path) -> None:
    (tmp_path / "system.sqlite").mkdir()  # the store's path is a folder: SQLITE_CANTOPEN from the driver
    o = run_import(request(tmp_path, write_text(tmp_path / "s.txt", [["Name"], ["a"]]), tmp_path / "system.sqlite"))
    assert (o.status, o.error_code, o.environmental) == ("failed", "STORE_UNAVAILABLE", True)
    assert is_transient(o) and o.error


def test_a_store_error_about_the_store_s_content_is_not_retried(tmp_path: Path) -> None:
    db = tmp_path / "system.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE skills (unrelated)").connection.close()
    o = run_import(request(tmp_path, write_text(tmp_path / "s.txt", [["Name"], ["a"]]), db))
    assert (o.status, o.error_code, o.environmental) == ("failed", "STORE_UNAVAILABLE", False)
    assert not is_transient(o)


def test_error_codes_carry_status_transient_and_meaning() -> None:
    assert tuple(ErrorCode) == ERROR_CODES and BY_CODE["NO_ROWS"] is ErrorCode.NO_ROWS
    for e in ErrorCode:
        assert e.name == e.value == e.code == f"{e}" and e.meaning and e.status in ("failed", "partial", "partial or failed")
    assert [e for e in ErrorCode if e.transient] == [ErrorCode.STORE_UNAVAILABLE, ErrorCode.DISK_FULL,
                                                     ErrorCode.STATE_UNWRITABLE]


def test_every_error_type_is_a_coded_error() -> None:
    for cls in (ReadError, HeaderError, FileFailure):
        exc = cls("NO_HEADER", "no header here")
        assert isinstance(exc, CodedError) and (exc.code, exc.message, str(exc)) == (ErrorCode.NO_HEADER, "no header here",
                                                                                   "no header here")
    with pytest.raises(KeyError):
        CodedError("NOT_A_DECLARED_CODE", "x")


def test_totals() -> None:
    t = Totals(rows=3, created=2, rejected=1) + Totals(rows=1, updated=1)
    assert t == Totals(4, 2, 1, 0, 0, 1)
    assert t.as_dict() == {"rows": 4, "created": 2, "updated": 1, "deleted": 0, "unchanged": 0, "rejected": 1}
    assert Totals.from_dict(t.as_dict()) == t and Totals.from_dict({}) is None


def test_an_outcome_read_back_from_the_ledger() -> None:
    row = {"status": "partial", "error_code": "CAMPAIGN_INVALID", "sha256": "ab",
           "stats": {"totals": {"rows": 2, "created": 1, "rejected": 1}, "sheets": [],
                     "result_fields": {"campaign": "C", "campaign_status": "Invalid"}}}
    o = ImportOutcome.from_ledger(row, None)
    assert (o.status, o.error_code, o.totals, o.result_fields) == (
        Status.PARTIAL, ErrorCode.CAMPAIGN_INVALID, Totals(rows=2, created=1, rejected=1),
        {"campaign": "C", "campaign_status": "Invalid"})
    assert not o.transient


def test_per_sheet_counts_keep_the_ledger_format() -> None:
    # a ledger row as the previous version wrote it (sheets as plain dicts) still loads, and is written back
    # with the same keys in the same order
    stored = [{"sheet": "Skills", "item": "skill", "rows": 3, "created": 1, "updated": 1, "deleted": 0,
               "unchanged": 0, "rejected": 1},
              {"sheet": "Leads", "item": "customer", "rows": 2, "created": 2}]
    row = {"status": "partial", "error_code": "ROWS_REJECTED", "sha256": "ab",
           "stats": {"totals": {"rows": 5, "created": 3, "updated": 1, "rejected": 1}, "sheets": stored}}
    o = ImportOutcome.from_ledger(row, None)
    assert o.sheets == [SheetTotals("Skills", "skill", Totals(rows=3, created=1, updated=1, rejected=1)),
                        SheetTotals("Leads", "customer", Totals(rows=2, created=2))]
    written = o.ledger_stats()["sheets"]
    assert [list(s) for s in written] == [list(stored[0])] * 2
    assert written[0] == stored[0] and ImportOutcome.from_ledger({**row, "stats": o.ledger_stats()}, None) == o


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_the_campaign_importer_is_picked_from_the_table_and_does_not_import_the_runner() -> None:
    from aimport.campaigns.importer import import_campaign

    assert IMPORTERS["OutboundCampaign"] is import_campaign
    for module in ("campaigns/importer.py", "importing/items.py", "importing/ledger.py", "importing/outcome.py"):
        assert "aimport.importing.run" not in imported_modules(REPO / "aimport" / module), module
