"""Every per-folder item type through the one engine, and Users through the Configuration workbook."""

from __future__ import annotations

from pathlib import Path

from aimport.worker import ImportOutcome, ImportRequest, run_import
from tests.helpers import query, write_openpyxl, write_text, write_xlsxwriter


def imp(tmp_path: Path, path: Path, import_type: str) -> ImportOutcome:
    n = len(list(tmp_path.glob("*.log")))
    return run_import(ImportRequest(path=path, import_type=import_type, import_key=f"k{n}",
                                    system_db=tmp_path / "system.sqlite", work_dir=tmp_path / "w", actor="admin",
                                    log_path=tmp_path / f"{n}.log"))


def log(o: ImportOutcome) -> str:
    assert o.log_path
    return o.log_path.read_text()


def db(tmp_path: Path, sql: str) -> list:
    return query(tmp_path / "system.sqlite", sql)


def test_user_groups_hierarchy_and_cycle_rejected(tmp_path: Path) -> None:
    o = imp(tmp_path, write_text(tmp_path / "g.txt", [["Name", "Parent"], ["Root", ""], ["Sales", "Root"], ["Nordic", "Sales"]]), "UserGroup")
    assert o.totals["created"] == 3
    o = imp(tmp_path, write_text(tmp_path / "g2.txt", [["Name", "Parent"], ["Root", "Nordic"], ["Sales", "Sales"]]), "UserGroup")
    assert (o.status, o.totals["rejected"]) == ("failed", 2)
    assert "row 2 column Parent: Parent would make a cycle (Root -> Nordic -> Sales -> Root)" in log(o)
    assert "row 3 column Parent: Parent would make a cycle" in log(o)
    assert db(tmp_path, "SELECT g.name, p.name FROM user_groups g LEFT JOIN user_groups p ON g.parent = p.id ORDER BY g.id") == [
        ("Root", None), ("Sales", "Root"), ("Nordic", "Sales")]


def test_directory_without_external_id_duplicates_with_warning(tmp_path: Path) -> None:
    rows = [["First Name", "Last Name", "Phone", "Company"], ["Ann", "Lee", "040 123 4567", ""], ["", "", "", "ACME"]]
    for i in range(2):
        o = imp(tmp_path, write_text(tmp_path / f"d{i}.txt", rows), "Directory")
        assert o.totals["created"] == 2
        assert "no ExternalId column, so every row creates a new directory entry" in log(o)
    assert db(tmp_path, "SELECT COUNT(*) FROM directory_entries") == [(4,)]
    o = imp(tmp_path, write_text(tmp_path / "d3.txt", [["ExternalId", "FirstName"], ["E1", "Bo"], ["E1", "Bo2"], ["E2", ""]]), "Directory")
    assert (o.totals["created"], o.totals["rejected"]) == (1, 2)
    assert "one of FirstName, LastName, Company is needed" in log(o)


def test_queues_reference_calendar_and_skills(tmp_path: Path) -> None:
    imp(tmp_path, write_text(tmp_path / "c.txt", [["Name"], ["Office"]]), "Calendar")
    imp(tmp_path, write_text(tmp_path / "s.txt", [["Name"], ["Sales"], ["Billing"]]), "Skills")
    rows = [["External ID", "Name", "Channel", "Calendar", "Skills", "Priority"],
            ["Q1", "Sales queue", "voice", "Office", "Sales; Billing", 3],
            ["Q2", "Bad cal", "Voice", "Nope", "", ""],
            ["Q3", "Bad skill", "Chat", "", "Sales;Ghost", ""],
            ["Q4", "Bad prio", "Chat", "", "", 11],
            ["Q5", "Bad channel", "Fax", "", "", ""]]
    o = imp(tmp_path, write_xlsxwriter(tmp_path / "q.xlsx", {"Queues": rows}), "Queues")
    assert (o.status, o.totals["created"], o.totals["rejected"]) == ("partial", 1, 4)
    text = log(o)
    for expected in ("row 3 column Calendar: no calendar named 'Nope'", "row 4 column Skills: no skill named 'Ghost'",
                     "row 5 column Priority: 11 is outside 1..10", "row 6 column Channel: 'Fax' is not one of Voice, Chat, Email"):
        assert expected in text
    assert db(tmp_path, "SELECT q.channel, c.name FROM queues q JOIN calendars c ON q.calendar = c.id") == [("Voice", "Office")]
    o = imp(tmp_path, write_text(tmp_path / "sd.txt", [["Name", "Delete"], ["Billing", "D"]]), "Skills")
    assert "the skill is still used by queue Sales queue" in log(o)


def test_presence_and_blocked_numbers(tmp_path: Path) -> None:
    o = imp(tmp_path, write_openpyxl(tmp_path / "p.xlsx", {"P": [["Name", "Status"], ["Lunch", "away"], ["X", "Sleeping"]]}), "Presence")
    assert (o.totals["created"], o.totals["rejected"]) == (1, 1)
    rows = [["Number", "Description", "Valid Until"], ["+358 40 123 4567", "a", "2027-01-31"], ["00358-40-1234567", "dup", ""],
            ["(09) 555 0100", "b", 46000], ["call me", "c", ""]]
    o = imp(tmp_path, write_openpyxl(tmp_path / "b.xlsx", {"B": rows}), "BlockedNumbers")
    assert (o.totals["created"], o.totals["rejected"]) == (2, 2)
    assert "row 3 column Number: duplicate Number: the same blocked number is already in row 2" in log(o)
    assert db(tmp_path, "SELECT number, valid_until FROM blocked_numbers ORDER BY id") == [
        ("+358401234567", "2027-01-31"), ("095550100", "2025-12-09")]


def test_scripts_choice_needs_options(tmp_path: Path) -> None:
    rows = [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
            ["Survey", "Q1", "Satisfied?", "Choice", "Yes;No", "Yes"], ["Survey", "Q2", "Why?", "Text", "", "no"],
            ["Survey", "Q3", "Pick", "Choice", "", ""], ["Survey", "Q1", "again", "Text", "", ""]]
    o = imp(tmp_path, write_text(tmp_path / "sc.txt", rows), "Scripts")
    assert (o.totals["created"], o.totals["rejected"]) == (2, 2)
    assert "row 4 column Options: Options: a Choice question needs its options" in log(o)
    assert "row 5 column Script/QuestionId: duplicate" in log(o)


def test_configuration_workbook_dependency_order_any_order(tmp_path: Path) -> None:
    imp(tmp_path, write_text(tmp_path / "g.txt", [["Name"], ["Agents"]]), "UserGroup")
    sheets = {
        "Users": [["Login", "First Name", "Surname", "UserGroup", "PresenceProfile", "Queues", "Skills", "Rights"],
                  ["ann", "Ann", "Lee", "Agents", "Default", "Sales", "Sales:5;Billing", "Agent"],
                  ["bob", "Bob", "Ray", "Nobody", "", "", "", ""], ["cid", "", "X", "", "", "", "", ""]],
        "Queues": [["Name", "Calendar", "Skills"], ["Sales", "Office", "Sales"]],
        "Notes": [["anything"]],
        "Skills": [["Name"], ["Sales"], ["Billing"]],
        "Calendars": [["Name", "TimeZone"], ["Office", "Europe/Berlin"]],
        "Presence Profiles": [["Name", "Status"], ["Default", "Available"]],
    }
    o = imp(tmp_path, write_openpyxl(tmp_path / "conf.xlsx", sheets), "Configuration")
    assert (o.status, o.totals["created"], o.totals["rejected"]) == ("partial", 6, 2)
    assert [s["sheet"] for s in o.sheets] == ["Calendars", "Skills", "Presence Profiles", "Queues", "Users"]
    assert {s["sheet"]: s["created"] for s in o.sheets}["Users"] == 1
    text = log(o)
    assert "sheet 'Notes' is not a configuration sheet and was skipped" in text
    assert "row 3 column UserGroup: no user group named 'Nobody'" in text and "row 4 column FirstName" in text
    assert db(tmp_path, "SELECT u.login, s.name, l.level FROM users u JOIN users__skills l ON l.owner = u.id "
                        "JOIN skills s ON s.id = l.target ORDER BY l.pos") == [("ann", "Sales", 5), ("ann", "Billing", 1)]


def test_configuration_without_known_sheet_and_not_xlsx(tmp_path: Path) -> None:
    o = imp(tmp_path, write_openpyxl(tmp_path / "x.xlsx", {"Sheet1": [["Name"], ["a"]]}), "Configuration")
    assert (o.status, o.error_code) == ("failed", "NO_KNOWN_SHEET")
    o = imp(tmp_path, write_text(tmp_path / "x.txt", [["Name"], ["a"]]), "Configuration")
    assert (o.status, o.error_code) == ("failed", "UNSUPPORTED_FORMAT")


def test_every_folder_has_an_importer(tmp_path: Path) -> None:
    from aimport.layout import IMPORT_TYPES

    for t in IMPORT_TYPES:
        o = imp(tmp_path, write_text(tmp_path / f"{t}.txt", [["Name"], ["a"]]), t)
        assert o.error_code != "NOT_SUPPORTED_YET", t
