"""The Configuration workbook: any subset of sheets in any order, dependency order, one transaction, per-sheet counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    StoreUnderTest,
    log_of,
    query,
    result_of,
    wait_archived,
    write_openpyxl,
    write_text,
    write_xlsxwriter,
)
from tests.serviceprocess import ServiceProcess

USERS_HEADER = ["Login", "First Name", "Surname", "UserGroup", "PresenceProfile", "Queues", "Skills", "Rights"]

pytestmark = pytest.mark.both_stores  # every test on SQLite and on PostgreSQL


def full_workbook() -> dict[str, Any]:
    """Every sheet, deliberately in reverse dependency order, plus sheets that are not configuration."""
    return {
        "Users": [USERS_HEADER, ["ann", "Ann", "Lee", "Agents", "Default", "Sales;Support", "Sales:5;Billing", "Agent;Supervise"],
                  ["bob", "Bob", "Ray", "", "", "Support", "", ""]],
        "Queues": [["Name", "Calendar", "Skills", "Channel", "Priority"], ["Sales", "Office", "Sales", "Voice", 2],
                   ["Support", "", "Billing;Sales", "Email", ""]],
        "System Settings": [["Setting", "Value"], ["MaxAgents", 10]],
        "Scripts": [["Script", "QuestionId", "Question", "AnswerType", "Options"], ["Survey", "Q1", "Happy?", "Choice", "Yes;No"]],
        "Channels": [["Name"], ["Voice"]],
        "Skills": [["Name"], ["Sales"], ["Billing"]],
        "Calendars": [["Name", "TimeZone", "Holidays"], ["Office", "Europe/Berlin", "2026-12-24"]],
        "Presence Profiles": [["Name", "Status"], ["Default", "Available"]],
    }


@pytest.mark.parametrize("writer", [write_openpyxl, write_xlsxwriter])
def test_any_order_imports_in_dependency_order_in_one_file(store: StoreUnderTest, tmp_path: Path, writer: Any) -> None:
    store.imp(write_text(tmp_path / "g.txt", [["Name"], ["Agents"]]), "UserGroup")
    o = store.imp(writer(tmp_path / "conf.xlsx", full_workbook()), "Configuration")
    assert (o.status, o.error_code, o.totals.created, o.totals.rejected) == ("succeeded", None, 9, 0), log_of(o)
    assert [(s.sheet, s.item, s.totals.created) for s in o.sheets] == [
        ("Calendars", "calendar", 1), ("Skills", "skill", 2), ("Presence Profiles", "presence", 1), ("Scripts", "script", 1),
        ("Queues", "queue", 2), ("Users", "user", 2)]
    text = log_of(o)
    for skipped in ("System Settings", "Channels"):  # nothing system- or channel-level is touched
        assert f"WARNING sheet {skipped!r} is not a configuration sheet and was skipped" in text
    assert store.query("SELECT u.login, g.name, p.name, u.rights FROM users u LEFT JOIN user_groups g ON g.id = u.user_group "
                        "LEFT JOIN presence_profiles p ON p.id = u.presence_profile ORDER BY u.id") == [
        ("ann", "Agents", "Default", '["Agent", "Supervise"]'), ("bob", None, None, None)]
    assert store.query("SELECT u.login, q.name FROM users u JOIN users__queues l ON l.owner = u.id JOIN queues q ON q.id = l.target "
                        "ORDER BY u.id, l.pos") == [("ann", "Sales"), ("ann", "Support"), ("bob", "Support")]
    assert store.query("SELECT s.name, l.level FROM users__skills l JOIN skills s ON s.id = l.target ORDER BY l.pos") == [
        ("Sales", 5), ("Billing", 1)]
    again = store.imp(writer(tmp_path / "conf2.xlsx", full_workbook()), "Configuration")
    assert (again.status, again.totals.unchanged, again.totals.created, again.totals.updated) == ("succeeded", 9, 0, 0)


def test_any_subset_and_per_sheet_counts_in_the_result(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_openpyxl(tmp_path / "a.xlsx", {"Skills": [["Name"], ["Sales"]]}), "Configuration")
    o = store.imp(write_openpyxl(tmp_path / "b.xlsx", {"users": [USERS_HEADER[:3], ["ann", "A", "L"]],
                                                         "SKILLS": [["Name", "Description"], ["Sales", "new"], ["Billing", ""]]}), "Configuration")
    assert [(s.sheet, s.totals.rows, s.totals.created, s.totals.updated) for s in o.sheets] == [("SKILLS", 2, 1, 1), ("users", 1, 1, 0)]
    from aimport.service.archive import result_text

    text = result_text({"status": o.status}, o.sheets)
    assert "sheet.SKILLS.updated: 1\n" in text and "sheet.users.created: 1\n" in text


def test_rejected_rows_never_abort_the_file(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_openpyxl(tmp_path / "a.xlsx", {"Skills": [["Name"], ["Sales"]]}), "Configuration")
    sheets: dict[str, Any] = {
        "Calendars": [["Name", "TimeZone", "OpeningHours", "Holidays"], ["Office", "Mars/Base", "", ""], ["Night", "", "Mon 22:00-25:00", ""],
                      ["Xmas", "", "", "24.13.2026"], ["Good", "UTC", "Mon-Fri 08:00-17:00", "2026-12-24"]],
        "Scripts": [["Script", "QuestionId", "Question", "AnswerType", "Options"], ["S", "Q1", "?", "Multiple", ""], ["S", "Q2", "?", "Choice", ""]],
        "Queues": [["Id", "Name", "Priority", "Calendar", "Skills"], [4711, "Ghost", "", "", ""], ["", "Q", 0, "", ""],
                   ["", "Q2", "", "Nowhere", ""], ["", "Q3", "", "Good", "Sales;Nope"], ["", "Q4", 10, "Good", "Sales"]],
        "Users": [USERS_HEADER, ["ann", "Ann", "Lee", "", "", "Q4", "Sales:11", ""], ["bob", "Bob", "Ray", "", "", "", "", "God"],
                  ["cy", "Cy", "Oz", "NoGroup", "", "", "", ""], ["dee", "Dee", "Ok", "", "", "Q4", "Sales:3", "Agent"],
                  ["dee", "Dee", "Again", "", "", "", "", ""]],
    }
    o = store.imp(write_xlsxwriter(tmp_path / "bad.xlsx", sheets), "Configuration")
    assert (o.status, o.error_code, o.totals.created, o.totals.rejected) == ("partial", "ROWS_REJECTED", 3, 13), log_of(o)
    text = log_of(o)
    for line in [
        "sheet 'Calendars' row 2 column TimeZone: 'Mars/Base' is not an IANA time zone",
        "sheet 'Calendars' row 3 column OpeningHours: 'Mon 22:00-25:00' is not like 'Mon-Fri 08:00-17:00'",
        "sheet 'Calendars' row 4 column Holidays: '24.13.2026' is not a date (use YYYY-MM-DD)",
        "sheet 'Scripts' row 2 column AnswerType: 'Multiple' is not one of Text, Number, Date, Choice",
        "sheet 'Scripts' row 3 column Options: a Choice question needs its options",
        "sheet 'Queues' row 2 column Id: Id 4711 does not exist",
        "sheet 'Queues' row 3 column Priority: 0 is outside 1..10",
        "sheet 'Queues' row 4 column Calendar: no calendar named 'Nowhere'",
        "sheet 'Queues' row 5 column Skills: no skill named 'Nope'",
        "sheet 'Users' row 2 column Skills: 'Sales:11': the level must be a number 1..10",
        "sheet 'Users' row 3 column Rights: 'God' is not one of ImportExport, ManageCampaigns",
        "sheet 'Users' row 4 column UserGroup: no user group named 'NoGroup' (import user groups through the UserGroup folder first)",
        "sheet 'Users' row 6 column Login: duplicate Login: the same user is already in row 5",
    ]:
        assert f"REJECT  {line}" in text, line
    assert store.query("SELECT login FROM users") == [("dee",)]


def test_user_groups_are_not_part_of_the_configuration_workbook(store: StoreUnderTest, tmp_path: Path) -> None:
    sheets: dict[str, Any] = {"UserGroups": [["Name"], ["Agents"]], "Users": [USERS_HEADER[:4], ["ann", "Ann", "Lee", "Agents"], ["bob", "B", "R", ""]]}
    o = store.imp(write_openpyxl(tmp_path / "c.xlsx", sheets), "Configuration")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 1)
    text = log_of(o)
    assert "sheet 'UserGroups' is not a configuration sheet and was skipped" in text
    assert "user groups import through the UserGroup folder" in text
    assert store.query("SELECT COUNT(*) FROM user_groups") == [(0,)]
    store.imp(write_openpyxl(tmp_path / "g.xlsx", {"UserGroups": [["Name"], ["Agents"]]}), "UserGroup")
    o = store.imp(write_openpyxl(tmp_path / "c2.xlsx", sheets), "Configuration")
    assert (o.status, o.totals.created, o.totals.unchanged) == ("succeeded", 1, 1)


def test_no_known_sheet_not_xlsx_and_a_broken_sheet(store: StoreUnderTest, tmp_path: Path) -> None:
    sheets: dict[str, Any] = {"Sheet1": [["Name"], ["a"]], "Agents": [["Login"], ["ann"]]}
    o = store.imp(write_openpyxl(tmp_path / "x.xlsx", sheets), "Configuration")
    assert (o.status, o.error_code) == ("failed", "NO_KNOWN_SHEET")
    assert "the workbook has no known configuration sheet: expected one of Calendars, Skills, PresenceProfiles, Scripts, Queues, Users" in log_of(o)
    o = store.imp(write_text(tmp_path / "x.txt", [["Name"], ["a"]]), "Configuration")
    assert (o.status, o.error_code) == ("failed", "UNSUPPORTED_FORMAT")
    o = store.imp(write_openpyxl(tmp_path / "y.xlsx", {"Skills": [["Name"], ["Sales"]], "Users": [["FirstName", "Surname"], ["A", "L"]]}), "Configuration")
    assert (o.status, o.error_code, o.totals.created) == ("partial", "MISSING_COLUMN", 1)
    assert "sheet 'Users' skipped: no column that identifies a user: the header needs Id, ExternalId or Login" in log_of(o)
    # a header without Surname is enough to update users; a row that would create one is rejected, the sheet is not
    o = store.imp(write_openpyxl(tmp_path / "y2.xlsx", {"Skills": [["Name"], ["Sales2"]], "Users": [["Login", "FirstName"], ["ann", "A"]]}), "Configuration")
    assert (o.status, o.error_code, o.totals.created, o.totals.rejected) == ("partial", "ROWS_REJECTED", 1, 1)
    assert "sheet 'Users' row 2 column Surname: no user matches this row, and creating one needs Surname" in log_of(o)
    o = store.imp(write_openpyxl(tmp_path / "z.xlsx", {"Skills": [["Name"]], "Users": [["Login", "FirstName", "Surname"]]}), "Configuration")
    assert (o.status, o.error_code) == ("failed", "NO_ROWS")


def test_check_rolls_back_the_whole_workbook(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_openpyxl(tmp_path / "c.xlsx", full_workbook()), "Configuration", dry_run=True)
    assert o.status == "partial" and o.totals.created == 8  # ann's group does not exist here
    assert store.query("SELECT (SELECT COUNT(*) FROM skills) + (SELECT COUNT(*) FROM queues) + (SELECT COUNT(*) FROM users)") == [(0,)]


def test_service_imports_a_configuration_workbook_with_per_sheet_counts(started: ServiceProcess, tmp_path: Path) -> None:
    layout = started.layout
    groups = write_text(tmp_path / "groups.txt", [["Name", "Parent"], ["Agents", ""], ["Night", "Agents"]])
    groups.rename(layout.type_dir("UserGroup") / groups.name)
    wait_archived(layout, "UserGroup", "groups.txt")
    book = write_xlsxwriter(tmp_path / "config.xlsx", full_workbook() | {
        "Users": full_workbook()["Users"] + [["cy", "Cy", "Oz", "Night", "", "", "Nope:2", ""]]})
    book.rename(layout.type_dir("Configuration") / book.name)
    [hist] = started.wait_done("Configuration", "config.xlsx")
    res = result_of(hist)
    assert (res["status"], res["type"], res["rows"], res["created"], res["rejected"]) == ("partial", "Configuration", "10", "9", "1")
    assert {k: v for k, v in res.items() if k.startswith("sheet.Users.")} == {
        "sheet.Users.rows": "3", "sheet.Users.created": "2", "sheet.Users.updated": "0", "sheet.Users.deleted": "0",
        "sheet.Users.unchanged": "0", "sheet.Users.rejected": "1"}
    assert res["sheet.Calendars.created"] == "1" and res["sheet.Presence Profiles.created"] == "1" and res["sheet.Queues.created"] == "2"
    assert hist.with_name(hist.name + ".err").read_text().strip() == "ROWS_REJECTED"
    text = hist.with_name(hist.name + ".log").read_text()
    assert "sheet 'Users' row 4 column Skills: no skill named 'Nope'" in text and "'System Settings' is not a configuration sheet" in text
    assert query(started.audit_db, "SELECT status, created, rejected FROM imports WHERE import_type = 'Configuration'") == [("partial", 9, 1)]


def test_a_second_sheet_for_the_same_item_is_reported_and_skipped(store: StoreUnderTest, tmp_path: Path) -> None:
    sheets: dict[str, Any] = {"PresenceProfiles": [["Name"], ["A"]], "Presence Profiles": [["Name"], ["B"]]}
    o = store.imp(write_xlsxwriter(tmp_path / "c.xlsx", sheets), "Configuration")
    assert (o.status, o.totals.created) == ("succeeded", 1)
    assert "sheet 'Presence Profiles' was skipped: sheet 'PresenceProfiles' already holds the PresenceProfiles" in log_of(o)
    assert store.query("SELECT name FROM presence_profiles") == [("A",)]
