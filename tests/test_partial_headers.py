"""Headers that do not create anything (issue 13 items 3, 8, 9; issue 12 item 10), table-driven.

Every file is written the way users write it: xlsx by openpyxl and xlsxwriter, text as UTF-8 with BOM and as
UTF-16 ("Unicode text"). The store is seeded through real imports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aimport.importing.logonuser import ensure_logon_user
from aimport.itemtypes.catalog import CUSTOMER, HINT_TYPES
from aimport.itemtypes.schema import ItemType
from tests.helpers import StoreUnderTest, log_of, query, result_of, write_openpyxl, write_text, write_xlsxwriter
from tests.serviceprocess import ServiceProcess

Rows = list[list[Any]]

pytestmark = pytest.mark.both_stores  # every test on SQLite and on PostgreSQL


def _utf8(path: Path, sheet: str, rows: Rows) -> Path:
    return write_text(path.with_suffix(".txt"), rows, "utf-8-sig")


def _utf16(path: Path, sheet: str, rows: Rows) -> Path:
    return write_text(path.with_suffix(".txt"), rows, "utf-16")


def _openpyxl(path: Path, sheet: str, rows: Rows) -> Path:
    return write_openpyxl(path.with_suffix(".xlsx"), {sheet: rows})


def _xlsxwriter(path: Path, sheet: str, rows: Rows) -> Path:
    return write_xlsxwriter(path.with_suffix(".xlsx"), {sheet: rows})


WRITERS: dict[str, Callable[[Path, str, Rows], Path]] = {
    "openpyxl": _openpyxl, "xlsxwriter": _xlsxwriter, "utf8bom": _utf8, "utf16": _utf16}
XLSX_WRITERS = ("openpyxl", "xlsxwriter")


SEEDS: dict[str, tuple[str, Rows]] = {  # import type -> (sheet name, rows)
    "Directory": ("Directory", [["ExternalId", "FirstName", "LastName", "Phone"], ["E1", "Ann", "Lee", "0401"],
                                ["E2", "Bo", "Ray", "0402"], ["E3", "Cy", "", ""]]),
    "Queues": ("Queues", [["ExternalId", "Name", "Priority"], ["Q1", "Sales", 1], ["Q2", "Support", 2]]),
    "Configuration": ("Users", [["ExternalId", "Login", "FirstName", "Surname", "Rights"],
                                ["U1", "ann", "Ann", "Lee", "Agent"], ["U2", "bob", "Bob", "Ray", "Agent"]]),
    "Scripts": ("Scripts", [["Script", "QuestionId", "Question", "AnswerType", "Options"],
                            ["Survey", "Q1", "Happy?", "Choice", "Yes;No"], ["Survey", "Q2", "Age?", "Number", ""]]),
    "Skills": ("Skills", [["Name", "Description"], ["Sales", "s"], ["Billing", "b"]]),
    "Calendar": ("Calendar", [["Name", "TimeZone"], ["Office", "Europe/Helsinki"]]),
    "Presence": ("Presence", [["Name", "Status"], ["Lunch", "Away"]]),
    "UserGroup": ("UserGroup", [["ExternalId", "Name"], ["G1", "Agents"], ["G2", "Leads"]]),
    "BlockedNumbers": ("BlockedNumbers", [["Number", "Description"], ["+358401111111", "spam"]]),
}


def seed(store: StoreUnderTest, import_type: str) -> None:
    sheet, rows = SEEDS[import_type]
    path = write_openpyxl(store.folder / f"seed-{import_type}.xlsx", {sheet: rows})
    o = store.imp(path, import_type)
    assert o.status == "succeeded", log_of(o)


@dataclass
class Case:
    name: str
    import_type: str
    rows: Rows
    status: str
    counts: dict[str, int]
    sql: str = ""
    stored: list[tuple[Any, ...]] = field(default_factory=list)
    log_has: tuple[str, ...] = ()
    code: str | None = None
    sheet: str = "Data"


CASES = [
    # item 3 as reported: delete-only files
    Case("directory delete by ExternalId", "Directory", [["ExternalId", "Delete"], ["E1", "D"]], "succeeded",
         {"deleted": 1}, "SELECT external_id FROM directory_entries ORDER BY id", [("E2",), ("E3",)]),
    Case("queues delete by ExternalId", "Queues", [["ExternalId", "Delete"], ["Q1", "D"]], "succeeded",
         {"deleted": 1}, "SELECT name FROM queues", [("Support",)]),
    Case("users delete by Login", "Configuration", [["Login", "Delete"], ["bob", "D"]], "succeeded",
         {"deleted": 1}, "SELECT login FROM users ORDER BY id", [("ann",)], sheet="Users"),
    Case("scripts delete by Script+QuestionId", "Scripts", [["Script", "QuestionId", "Delete"], ["Survey", "Q1", "D"]],
         "succeeded", {"deleted": 1}, "SELECT question_id FROM script_questions", [("Q2",)]),
    Case("skills delete by Id", "Skills", [["Id", "Delete"], [1, "D"]], "succeeded", {"deleted": 1},
         "SELECT name FROM skills", [("Billing",)]),
    Case("blocked numbers delete by Number", "BlockedNumbers", [["Number", "Delete"], ["+358 40 111 1111", "D"]],
         "succeeded", {"deleted": 1}, "SELECT COUNT(*) FROM blocked_numbers", [(0,)]),
    Case("user groups delete by ExternalId", "UserGroup", [["External ID", "Delete"], ["G2", "D"]], "succeeded",
         {"deleted": 1}, "SELECT name FROM user_groups", [("Agents",)]),
    # update-only files: a few columns of existing objects
    Case("directory phone update", "Directory", [["ExternalId", "Phone"], ["E1", "040 999"]], "succeeded",
         {"updated": 1}, "SELECT first_name, last_name, phone FROM directory_entries WHERE external_id = 'E1'",
         [("Ann", "Lee", "040999")]),
    Case("queues priority update", "Queues", [["ExternalId", "Priority"], ["Q2", 9]], "succeeded", {"updated": 1},
         "SELECT name, priority FROM queues ORDER BY id", [("Sales", 1), ("Support", 9)]),
    Case("users email update by Login", "Configuration", [["Login", "Email"], ["ann", "ann@example.com"]],
         "succeeded", {"updated": 1}, "SELECT login, first_name, surname, email FROM users ORDER BY id",
         [("ann", "Ann", "Lee", "ann@example.com"), ("bob", "Bob", "Ray", None)], sheet="Users"),
    Case("users rights update by ExternalId", "Configuration", [["ExternalId", "Rights"], ["U2", "Agent;Report"]],
         "succeeded", {"updated": 1}, "SELECT rights FROM users WHERE login = 'bob'", [('["Agent", "Report"]',)],
         sheet="Users"),
    Case("scripts options update", "Scripts", [["Script", "QuestionId", "Options"], ["Survey", "Q1", "Yes;No;Maybe"]],
         "succeeded", {"updated": 1}, "SELECT question, options FROM script_questions WHERE question_id = 'Q1'",
         [("Happy?", "Yes;No;Maybe")]),
    Case("scripts: Choice on a question that has options, by Id", "Scripts", [["Id", "AnswerType"], [1, "Choice"]],
         "succeeded", {"unchanged": 1}),
    Case("directory: clearing one name keeps the entry valid", "Directory", [["ExternalId", "FirstName"], ["E1", ""]],
         "succeeded", {"updated": 1}, "SELECT first_name, last_name FROM directory_entries WHERE external_id = 'E1'",
         [(None, "Lee")]),
    # rows that would create, without the mandatory columns: rejected rows naming the column
    Case("queues: a new ExternalId without a Name column", "Queues",
         [["ExternalId", "Priority"], ["Q2", 3], ["Q9", 4]], "partial", {"updated": 1, "rejected": 1},
         "SELECT COUNT(*) FROM queues", [(2,)],
         ("row 3 column Name: no queue matches this row, and creating one needs Name (the file has no Name column)",),
         "ROWS_REJECTED"),
    Case("users: a new Login without FirstName/Surname columns", "Configuration", [["Login", "Email"], ["zed", "z@x"]],
         "failed", {"rejected": 1}, "SELECT COUNT(*) FROM users", [(2,)],
         ("row 2 column FirstName: no user matches this row, and creating one needs FirstName, Surname",),
         "ALL_ROWS_REJECTED", sheet="Users"),
    Case("directory: a new ExternalId without any name column", "Directory", [["ExternalId", "Phone"], ["E9", "0409"]],
         "failed", {"rejected": 1}, "SELECT COUNT(*) FROM directory_entries", [(3,)],
         ("row 2: one of FirstName, LastName, Company is needed",), "ALL_ROWS_REJECTED"),
    Case("directory: clearing the only name is rejected", "Directory", [["ExternalId", "FirstName"], ["E3", ""]],
         "failed", {"rejected": 1}, "SELECT first_name FROM directory_entries WHERE external_id = 'E3'", [("Cy",)],
         ("row 2: one of FirstName, LastName, Company is needed",), "ALL_ROWS_REJECTED"),
    Case("scripts: clearing the options of a Choice question is rejected", "Scripts",
         [["Script", "QuestionId", "Options"], ["Survey", "Q1", ""]], "failed", {"rejected": 1},
         "SELECT options FROM script_questions WHERE question_id = 'Q1'", [("Yes;No",)],
         ("row 2 column Options: a Choice question needs its options",), "ALL_ROWS_REJECTED"),
    Case("a mandatory cell in a present column still cannot be emptied", "Queues", [["ExternalId", "Name"], ["Q1", ""]],
         "failed", {"rejected": 1}, "SELECT name FROM queues ORDER BY id", [("Sales",), ("Support",)],
         ("row 2 column Name: Name is mandatory",), "ALL_ROWS_REJECTED"),
    Case("directory: creates in bulk without a Company column, a row without names rejected", "Directory",
         [["ExternalId", "FirstName", "LastName", "Phone"], ["E7", "Di", "", ""], ["E8", "", "", "0408"],
          ["E1", "", "Lee2", ""]], "partial", {"created": 1, "updated": 1, "rejected": 1},
         "SELECT external_id, first_name, last_name FROM directory_entries ORDER BY id",
         [("E1", None, "Lee2"), ("E2", "Bo", "Ray"), ("E3", "Cy", None), ("E7", "Di", None)],
         ("row 3: one of FirstName, LastName, Company is needed",), "ROWS_REJECTED"),
    # no identification column at all: the file fails, saying what the header needs
    Case("queues without an identification column", "Queues", [["Description", "Priority"], ["x", 2]], "failed", {},
         log_has=("no column that identifies a queue: the header needs Id, ExternalId or Name",),
         code="MISSING_COLUMN"),
    Case("scripts with half an identification", "Scripts", [["Script", "Question"], ["Survey", "?"]], "failed", {},
         log_has=("the header needs Id or Script and QuestionId",), code="MISSING_COLUMN"),
    Case("directory with neither identification nor a name", "Directory", [["Phone", "Email"], ["0401", "a@b"]],
         "failed", {}, log_has=("the header needs Id or ExternalId (or FirstName, LastName or Company, to create "
                                "new ones)",), code="MISSING_COLUMN"),
    Case("users without an identification column", "Configuration", [["FirstName", "Surname"], ["A", "B"]], "failed",
         {}, log_has=("the header needs Id, ExternalId or Login",), code="MISSING_COLUMN", sheet="Users"),
]


# a Configuration import is a workbook (text is refused by design), so its cases run with the xlsx writers only
CASE_PARAMS = [(c, w) for c in CASES for w in WRITERS if c.import_type != "Configuration" or w in XLSX_WRITERS]


@pytest.mark.parametrize("case,writer", CASE_PARAMS, ids=[f"{c.name}-{w}" for c, w in CASE_PARAMS])
def test_identification_is_enough_in_the_header(store: StoreUnderTest, tmp_path: Path, case: Case, writer: str) -> None:
    seed(store, case.import_type)
    o = store.imp(WRITERS[writer](tmp_path / "case", case.sheet, case.rows), case.import_type)
    assert (o.status, o.error_code) == (case.status, case.code), log_of(o)
    for k, v in case.counts.items():
        assert getattr(o.totals, k) == v, (k, log_of(o))
    if case.sql:
        assert store.query(case.sql) == case.stored
    for text in case.log_has:
        assert text in log_of(o)


def test_campaign_customers_still_need_every_mandatory_column(store: StoreUnderTest, tmp_path: Path) -> None:
    """Every customer row creates, so a customers sheet without Phone1 still fails as a whole."""
    o = store.imp(write_openpyxl(tmp_path / "camp.xlsx", {"Customers": [["ExternalId", "FirstName"], ["C1", "A"]]}), "OutboundCampaign")
    assert (o.status, o.error_code) == ("failed", "MISSING_COLUMN")
    assert "Phone1" in log_of(o)


def test_check_of_a_delete_only_file(tmp_path: Path, capsys: Any) -> None:
    from aimport.cli import main

    state = tmp_path / "state"
    state.mkdir()
    seed_path = write_text(tmp_path / "q.txt", SEEDS["Queues"][1])
    assert main(["import", str(seed_path), "--type", "Queues", "--state-dir", str(state), "--root", str(tmp_path / "r"),
                 "--quiet"]) == 0
    capsys.readouterr()
    path = write_text(tmp_path / "del.txt", [["ExternalId", "Delete"], ["Q1", "D"]], "utf-16")
    assert main(["check", str(path), "--type", "Queues", "--state-dir", str(state), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["totals"]["deleted"]) == ("succeeded", 1)
    assert query(state / "system.sqlite", "SELECT COUNT(*) FROM queues") == [(2,)]


# ---- item 8: the logon user cannot be cut off ---------------------------------------------------------------

def logon_store(store: StoreUnderTest) -> None:
    with store.open() as db:
        ensure_logon_user(db, "admin")
    seed(store, "Configuration")
    with store.open() as db:
        db.execute("UPDATE users SET external_id = 'ADM' WHERE login = 'admin'")


LOGON_CASES = [
    ("delete by Login", [["Login", "FirstName", "Surname", "Delete"], ["admin", "Automatic", "Import", "D"],
                         ["bob", "Bob", "Ray", "D"]],
     "row 2 column Delete: user 'admin' is the logon user automatic import acts as; an import cannot delete it"),
    ("delete by Id", [["Id", "Delete"], [1, "D"], [3, "D"]],
     "row 2 column Delete: user 'admin' is the logon user automatic import acts as; an import cannot delete it"),
    ("rights taken away", [["Login", "Rights"], ["admin", "Agent;ImportExport"], ["bob", "Report"]],
     "row 2 column Rights: user 'admin' is the logon user automatic import acts as; it must keep the right "
     "ManageCampaigns"),
    ("rights cleared", [["Login", "Rights"], ["admin", ""], ["bob", "Report"]],
     "row 2 column Rights: user 'admin' is the logon user automatic import acts as; it must keep the rights "
     "ImportExport, ManageCampaigns"),
    ("renamed by ExternalId", [["ExternalId", "Login"], ["ADM", "root"], ["U2", "bobby"]],
     "row 2 column Login: user 'admin' is the logon user automatic import acts as; an import cannot change its "
     "Login (change --logon-user first)"),
]


@pytest.mark.parametrize("writer", XLSX_WRITERS)
@pytest.mark.parametrize("name,rows,reason", LOGON_CASES, ids=[c[0] for c in LOGON_CASES])
def test_the_logon_user_cannot_be_cut_off(store: StoreUnderTest, tmp_path: Path, writer: str, name: str, rows: Rows, reason: str) -> None:
    logon_store(store)
    o = store.imp(WRITERS[writer](tmp_path / "users", "Users", rows), "Configuration")
    assert (o.status, o.error_code, o.totals.rejected) == ("partial", "ROWS_REJECTED", 1), log_of(o)
    assert reason in log_of(o)
    assert store.query("SELECT login, rights FROM users WHERE id = 1") == [
        ("admin", '["ImportExport", "ManageCampaigns"]')]
    assert len(store.query("SELECT id FROM users")) in (2, 3)  # bob's row was applied


def test_a_logon_user_import_keeps_the_service_restartable(service: ServiceProcess, tmp_path: Path) -> None:
    """As reported: a Users sheet deletes admin and strips its rights; the next restart must still work."""
    service.start()
    drop_dir = service.layout.type_dir("Configuration")
    rights = write_xlsxwriter(tmp_path / "rights.xlsx", {"Users": [
        ["Login", "FirstName", "Surname", "Rights"], ["admin", "Automatic", "Import", "Agent"], ["ann", "Ann", "Lee", "Agent"]]})
    rights.rename(drop_dir / rights.name)
    res = result_of(service.wait_done("Configuration", "rights.xlsx")[0])
    assert (res["status"], res["created"], res["rejected"]) == ("partial", "1", "1")
    delete = write_openpyxl(tmp_path / "delete.xlsx", {"Users": [["Login", "Delete"], ["admin", "D"]]})
    delete.rename(drop_dir / delete.name)
    res = result_of(service.wait_done("Configuration", "delete.xlsx")[0])
    assert (res["status"], res["error_code"], res["rejected"]) == ("failed", "ALL_ROWS_REJECTED", "1")
    assert service.stop() == 0
    service.start()  # fails with "logon user lacks the right" if the import cut it off
    assert query(service.store_address, "SELECT rights FROM users WHERE login = 'admin'") == [
        ('["ImportExport", "ManageCampaigns"]',)]


# ---- item 9: a file in the wrong folder ---------------------------------------------------------------------

FOLDERS = ("UserGroup", "Directory", "Queues", "Calendar", "Skills", "Presence", "OutboundCampaign",
           "BlockedNumbers", "Scripts")
SAMPLE = {"Name": "N1", "ExternalId": "X1", "Login": "l1", "FirstName": "F", "Surname": "S", "LastName": "L",
          "Script": "S1", "QuestionId": "Q1", "Question": "?", "Number": "+358401234567", "Phone1": "+358401234568"}


def home(t: ItemType) -> str:
    return t.folder or "Configuration"


def full_header(t: ItemType) -> list[str]:
    return [f.name for f in t.fields] + (["Delete"] if t is not CUSTOMER else [])


def _known(t: ItemType) -> set[str]:
    return set(t.header_map()) - {"id", "delete"}


PAIRS = [(s, d) for s in HINT_TYPES for d in FOLDERS if d != home(s)]


@pytest.mark.parametrize("kind", ["xlsx", "text"])
@pytest.mark.parametrize("source,dest", PAIRS, ids=[f"{home(s)}->{d}" for s, d in PAIRS])
def test_a_file_in_the_wrong_folder_says_where_it_belongs(store: StoreUnderTest, tmp_path: Path, source: ItemType, dest: str, kind: str) -> None:
    from aimport.itemtypes.catalog import CATALOG
    from aimport.itemtypes.schema import norm_header

    header = full_header(source)
    rows: Rows = [header, [SAMPLE.get(h, "") for h in header]]
    i = PAIRS.index((source, dest))
    writer = (XLSX_WRITERS if kind == "xlsx" else ("utf8bom", "utf16"))[i % 2]
    sheet = source.sheet or "Customers"
    o = store.imp(WRITERS[writer](tmp_path / f"{home(source)}_file", sheet, rows), dest)
    dest_t = CUSTOMER if dest == "OutboundCampaign" else CATALOG.for_folder(dest)
    assert dest_t is not None
    if {norm_header(h) for h in header} - {"id", "delete"} <= _known(dest_t):
        return  # the file is also a valid file of the folder's type (Name, Description): nothing tells them apart
    assert o.status == "failed", log_of(o)
    assert o.error_code in ("NO_HEADER", "WRONG_FOLDER", "MISSING_COLUMN"), log_of(o)
    text = log_of(o)
    if source.folder is None:
        assert "Users import through the Configuration folder, as a sheet named Users" in text
    else:  # the one folder, or (columns several types share) a list of folders holding it
        hint = next(line for line in text.splitlines() if "drop it into the" in line)
        folders = hint.split("drop it into the ", 1)[1].split(" folder")[0].replace(" or ", ", ").split(", ")
        assert source.folder in folders, hint
    assert (o.totals is None or o.totals.created == 0)


SINGLE = [s for s in HINT_TYPES if s.folder is not None]


@pytest.mark.parametrize("source", SINGLE, ids=[s.folder or "" for s in SINGLE])
def test_a_single_type_workbook_in_the_configuration_folder(store: StoreUnderTest, tmp_path: Path, source: ItemType) -> None:
    from aimport.itemtypes.schema import norm_header

    header = full_header(source)
    writer = XLSX_WRITERS[SINGLE.index(source) % 2]
    o = store.imp(WRITERS[writer](tmp_path / "export", "Sheet1", [header, [SAMPLE.get(h, "") for h in header]]), "Configuration")
    assert (o.status, o.error_code) == ("failed", "NO_KNOWN_SHEET")
    keys = {norm_header(h) for h in header} - {"id", "delete"}
    if any(keys <= _known(x) for x in HINT_TYPES if x is not source):
        return  # Name | Description fits five types: no hint rather than a guess
    assert "sheet 'Sheet1' is not a configuration sheet and was skipped" in log_of(o)
    assert f"drop it into the {source.folder} folder" in log_of(o)


@pytest.mark.parametrize("writer", list(WRITERS))
def test_users_sheet_in_usergroup_folder_as_reported(store: StoreUnderTest, tmp_path: Path, writer: str) -> None:
    rows: Rows = [["Login", "First Name", "Surname", "UserGroup", "Rights"], ["ann", "Ann", "Lee", "Agents", "Agent"]]
    o = store.imp(WRITERS[writer](tmp_path / "users", "Users", rows), "UserGroup")
    assert (o.status, o.error_code) == ("failed", "NO_HEADER")
    assert ("this looks like a Users sheet: Users import through the Configuration folder, as a sheet named Users "
            "of an .xlsx workbook") in log_of(o)


def test_a_file_of_its_own_type_with_a_stray_column_still_imports(store: StoreUnderTest, tmp_path: Path) -> None:
    """Only a header that another type explains strictly better is the wrong folder."""
    o = store.imp(write_text(tmp_path / "s.txt", [["Name", "Description", "Notes"], ["Sales", "x", "y"]]), "Skills")
    assert (o.status, o.totals.created) == ("succeeded", 1), log_of(o)


# ---- issue 12 item 10: a NUL byte in a cell -----------------------------------------------------------------

@pytest.mark.parametrize("writer", ["xlsxwriter", "utf8bom", "utf16"])  # openpyxl refuses to write NUL
def test_a_nul_in_a_cell_is_a_rejected_row(store: StoreUnderTest, tmp_path: Path, writer: str) -> None:
    rows: Rows = [["Name", "Description"], ["Sales", "ok"], ["Bill\x00ing", "x"], ["Support", "a\x00b"]]
    path = WRITERS[writer](tmp_path / "nul", "Skills", rows)
    o = store.imp(path, "Skills")
    assert (o.status, o.error_code, o.totals.created, o.totals.rejected) == ("partial", "ROWS_REJECTED", 1, 2)
    sheet = "Skills" if writer == "xlsxwriter" else "nul"
    text = log_of(o)
    assert f"sheet {sheet!r} row 3 column Name: the cell holds a NUL character" in text
    assert f"sheet {sheet!r} row 4 column Description: the cell holds a NUL character" in text
    assert store.query("SELECT name FROM skills") == [("Sales",)]


@pytest.mark.parametrize("writer", ["xlsxwriter", "utf8bom", "utf16"])
def test_a_nul_in_a_campaign_customer_cell_is_a_rejected_row(store: StoreUnderTest, tmp_path: Path, writer: str) -> None:
    """Customers follow the same cell rule as staged rows (one row parser): a NUL is never stored."""
    rows: Rows = [["ExternalId", "Phone1", "FirstName", "Contract"], ["C1", "040 1000001", "Ann", "K-1"],
                  ["C2", "040 1000002", "Bo\x00b", "K-2"], ["C3", "040 1000003", "Cid", "K\x003"]]
    path = WRITERS[writer](tmp_path / "nul", "Customers", rows)
    o = store.imp(path, "OutboundCampaign")
    assert (o.totals.created, o.totals.rejected) == (1, 2), log_of(o)
    sheet = "Customers" if writer == "xlsxwriter" else "nul"
    text = log_of(o)
    assert f"sheet {sheet!r} row 3 column FirstName: the cell holds a NUL character" in text
    assert f"sheet {sheet!r} row 4 column Contract: the cell holds a NUL character" in text
    assert store.query("SELECT external_id FROM customers") == [("C1",)]


def test_item_matrix_is_complete() -> None:
    """Every type that has a folder (and Users, and customers) is a source in the wrong-folder matrix."""
    assert {home(s) for s in HINT_TYPES} >= set(FOLDERS) | {"Configuration"}
    assert len(PAIRS) == len(HINT_TYPES) * (len(FOLDERS) - 1) + 1  # Users has no folder of its own
