"""Every per-folder item type through the one engine, and Users through the Configuration workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import StoreUnderTest, log_of, query, write_openpyxl, write_text, write_xlsxwriter

pytestmark = pytest.mark.both_stores  # every test on SQLite and on PostgreSQL


def test_user_groups_hierarchy_and_cycle_rejected(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "g.txt", [["Name", "Parent"], ["Root", ""], ["Sales", "Root"], ["Nordic", "Sales"]]), "UserGroup")
    assert o.totals.created == 3
    o = store.imp(write_text(tmp_path / "g2.txt", [["Name", "Parent"], ["Root", "Nordic"], ["Sales", "Sales"]]), "UserGroup")
    assert (o.status, o.totals.rejected) == ("failed", 2)
    assert "row 2 column Parent: Parent would make a cycle (Root -> Nordic -> Sales -> Root)" in log_of(o)
    assert "row 3 column Parent: Parent would make a cycle" in log_of(o)
    assert store.query("SELECT g.name, p.name FROM user_groups g LEFT JOIN user_groups p ON g.parent = p.id ORDER BY g.id") == [
        ("Root", None), ("Sales", "Root"), ("Nordic", "Sales")]


def test_directory_without_external_id_duplicates_with_warning(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["First Name", "Last Name", "Phone", "Company"], ["Ann", "Lee", "040 123 4567", ""], ["", "", "", "ACME"]]
    for i in range(2):
        o = store.imp(write_text(tmp_path / f"d{i}.txt", rows), "Directory")
        assert o.totals.created == 2
        assert "no ExternalId column, so every row creates a new directory entry" in log_of(o)
    assert store.query("SELECT COUNT(*) FROM directory_entries") == [(4,)]
    o = store.imp(write_text(tmp_path / "d3.txt", [["ExternalId", "FirstName"], ["E1", "Bo"], ["E1", "Bo2"], ["E2", ""]]), "Directory")
    assert (o.totals.created, o.totals.rejected) == (1, 2)
    assert "one of FirstName, LastName, Company is needed" in log_of(o)


def test_queues_reference_calendar_and_skills(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_text(tmp_path / "c.txt", [["Name"], ["Office"]]), "Calendar")
    store.imp(write_text(tmp_path / "s.txt", [["Name"], ["Sales"], ["Billing"]]), "Skills")
    rows: list[Any] = [["External ID", "Name", "Channel", "Calendar", "Skills", "Priority"],
            ["Q1", "Sales queue", "voice", "Office", "Sales; Billing", 3],
            ["Q2", "Bad cal", "Voice", "Nope", "", ""],
            ["Q3", "Bad skill", "Chat", "", "Sales;Ghost", ""],
            ["Q4", "Bad prio", "Chat", "", "", 11],
            ["Q5", "Bad channel", "Fax", "", "", ""]]
    o = store.imp(write_xlsxwriter(tmp_path / "q.xlsx", {"Queues": rows}), "Queues")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 4)
    text = log_of(o)
    for expected in ("row 3 column Calendar: no calendar named 'Nope'", "row 4 column Skills: no skill named 'Ghost'",
                     "row 5 column Priority: 11 is outside 1..10", "row 6 column Channel: 'Fax' is not one of Voice, Chat, Email"):
        assert expected in text
    assert store.query("SELECT q.channel, c.name FROM queues q JOIN calendars c ON q.calendar = c.id") == [("Voice", "Office")]
    o = store.imp(write_text(tmp_path / "sd.txt", [["Name", "Delete"], ["Billing", "D"]]), "Skills")
    assert "the skill is still used by queue Sales queue" in log_of(o)


def test_presence_and_blocked_numbers(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_openpyxl(tmp_path / "p.xlsx", {"P": [["Name", "Status"], ["Lunch", "away"], ["X", "Sleeping"]]}), "Presence")
    assert (o.totals.created, o.totals.rejected) == (1, 1)
    rows: list[Any] = [["Number", "Description", "Valid Until"], ["+358 40 123 4567", "a", "2027-01-31"], ["00358-40-1234567", "dup", ""],
            ["(09) 555 0100", "b", 46000], ["call me", "c", ""]]
    o = store.imp(write_openpyxl(tmp_path / "b.xlsx", {"B": rows}), "BlockedNumbers")
    assert (o.totals.created, o.totals.rejected) == (2, 2)
    assert "row 3 column Number: duplicate Number: the same blocked number is already in row 2" in log_of(o)
    assert store.query("SELECT number, valid_until FROM blocked_numbers ORDER BY id") == [
        ("+358401234567", "2027-01-31"), ("095550100", "2025-12-09")]


def test_scripts_choice_needs_options(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["Script", "QuestionId", "Question", "AnswerType", "Options", "Mandatory"],
            ["Survey", "Q1", "Satisfied?", "Choice", "Yes;No", "Yes"], ["Survey", "Q2", "Why?", "Text", "", "no"],
            ["Survey", "Q3", "Pick", "Choice", "", ""], ["Survey", "Q1", "again", "Text", "", ""]]
    o = store.imp(write_text(tmp_path / "sc.txt", rows), "Scripts")
    assert (o.totals.created, o.totals.rejected) == (2, 2)
    assert "row 4 column Options: a Choice question needs its options" in log_of(o)
    assert "row 5 column Script/QuestionId: duplicate" in log_of(o)


def test_every_folder_has_an_importer(store: StoreUnderTest, tmp_path: Path) -> None:
    from aimport.layout import IMPORT_TYPES

    for t in IMPORT_TYPES:
        o = store.imp(write_text(tmp_path / f"{t}.txt", [["Name"], ["a"]]), t)
        assert o.error_code != "NOT_SUPPORTED_YET", t


def test_user_group_moves_identifies_by_external_id_and_guards_deletes(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_text(tmp_path / "g.txt", [["ExternalId", "Name", "Parent"], ["G1", "Root", ""], ["G2", "Sales", "Root"],
                                                  ["G3", "Support", ""]]), "UserGroup")
    rows = [["ExternalId", "Name", "Parent", "Delete"], ["G2", "Sales EMEA", "Support", ""], ["", "Child", "Later", ""],
            ["", "Later", "", ""], ["", "Self", "Self", ""], ["", "Support", "", "D"], ["G1", "", "", "D"]]
    o = store.imp(write_xlsxwriter(tmp_path / "g2.xlsx", {"Groups": rows}), "UserGroup")
    assert (o.status, o.totals.updated, o.totals.created, o.totals.deleted, o.totals.rejected) == ("partial", 1, 1, 1, 3)
    text = log_of(o)
    assert "row 3 column Parent: no user group named 'Later'" in text  # parents come first in a file
    assert "row 5 column Parent: no user group named 'Self'" in text
    assert "row 6 column Delete: the user group is still used by user group Sales EMEA" in text
    assert store.query("SELECT g.external_id, g.name, p.name FROM user_groups g LEFT JOIN user_groups p ON g.parent = p.id "
                        "ORDER BY g.id") == [("G2", "Sales EMEA", "Support"), ("G3", "Support", None), (None, "Later", None)]


def test_skill_and_queue_names_cannot_hold_the_list_separator(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "s.txt", [["Name"], ["Sales;Billing"], ["Sales"]]), "Skills")
    assert (o.totals.created, o.totals.rejected) == (1, 1)
    assert "row 2 column Name: cannot contain ';'" in log_of(o)
    o = store.imp(write_text(tmp_path / "q.txt", [["Name", "Id"], ["A;B", ""], ["Good", 999]]), "Queues")
    assert (o.status, o.error_code, o.totals.rejected) == ("failed", "ALL_ROWS_REJECTED", 2)
    assert "row 3 column Id: Id 999 does not exist" in log_of(o)


def test_directory_updates_by_external_id_and_normalises_phones(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["ExternalId", "FirstName", "Phone", "Mobile", "Email"], ["E1", "Ann", "+358 (9) 123-4567", "0040 721 000 000", "a@x.fi"]]
    assert store.imp(write_text(tmp_path / "d.txt", rows), "Directory").totals.created == 1
    assert store.query("SELECT phone, mobile FROM directory_entries") == [("+35891234567", "+40721000000")]
    rows = [["ExternalId", "FirstName", "Phone"], ["E1", "Ann", "09 555 1234"], ["E2", "Bo", "no phone"]]
    o = store.imp(write_openpyxl(tmp_path / "d.xlsx", {"D": rows}), "Directory", phone_region="FI")
    assert (o.totals.updated, o.totals.rejected) == (1, 1)
    assert "row 3 column Phone: 'no phone' is not a phone number" in log_of(o)
    assert "WARNING" not in log_of(o)
    assert store.query("SELECT external_id, first_name, phone, mobile FROM directory_entries") == [
        ("E1", "Ann", "+35895551234", "+40721000000")]


def test_scripts_update_a_question_by_script_and_question_id(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["Script", "QuestionId", "Question", "AnswerType", "Options"], ["S", "Q1", "Old?", "Text", ""], ["T", "Q1", "Other", "", ""]]
    store.imp(write_text(tmp_path / "a.txt", rows), "Scripts")
    rows = [["Script", "QuestionId", "Question", "AnswerType", "Options"], ["S", "Q1", "New?", "Choice", "A;B"], ["S", "Q2", "x", "Maybe", ""]]
    o = store.imp(write_text(tmp_path / "b.txt", rows), "Scripts")
    assert (o.totals.updated, o.totals.rejected) == (1, 1)
    assert "row 3 column AnswerType: 'Maybe' is not one of Text, Number, Date, Choice" in log_of(o)
    assert store.query("SELECT script, question_id, question, answer_type, options FROM script_questions ORDER BY id") == [
        ("S", "Q1", "New?", "Choice", "A;B"), ("T", "Q1", "Other", None, None)]


SAMPLES = {
    "UserGroup": [["Name"], ["G"]], "Directory": [["Company"], ["ACME"]], "Queues": [["Name"], ["Q"]],
    "Calendar": [["Name", "TimeZone"], ["C", "UTC"]], "Skills": [["Name"], ["S"]], "Presence": [["Name"], ["P"]],
    "BlockedNumbers": [["Number"], ["+1 212 555 0100"]], "Scripts": [["Script", "QuestionId", "Question"], ["S", "Q", "?"]],
}


def test_check_works_for_every_type_and_the_configuration_workbook(tmp_path: Path, capsys: Any) -> None:
    import json

    from aimport.cli import main

    state = ["--state-dir", str(tmp_path / "state")]
    for folder, rows in SAMPLES.items():
        assert main(["check", str(write_text(tmp_path / f"{folder}.txt", rows)), "--type", folder, *state, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["status"], out["totals"]["created"]) == ("succeeded", 1), folder
    book = write_openpyxl(tmp_path / "c.xlsx", {"Users": [["Login", "FirstName", "Surname", "Queues"], ["ann", "A", "L", "Q"]],
                                                "Queues": [["Name"], ["Q"]], "Extra": [["x"]]})
    assert main(["check", str(book), "--type", "Configuration", *state]) == 0
    out = capsys.readouterr().out
    assert "sheet 'Extra' is not a configuration sheet and was skipped" in out and "status: would be succeeded" in out
    assert [line.split()[:3] for line in out.splitlines() if line.startswith(("Queues", "Users"))] == [
        ["Queues", "queue", "1"], ["Users", "user", "1"]]
    assert main(["check", str(write_text(tmp_path / "bad.txt", [["Name", "Priority"], ["Q", 0]])), "--type", "queues", *state]) == 1
    assert "row 2 column Priority: 0 is outside 1..10" in capsys.readouterr().out
    assert query(tmp_path / "state" / "system.sqlite", "SELECT COUNT(*) FROM queues") == [(0,)]


def test_an_update_cannot_take_another_objects_name_and_renames_free_the_old_name(store: StoreUnderTest, tmp_path: Path) -> None:
    store.imp(write_text(tmp_path / "q.txt", [["ExternalId", "Name"], ["X1", "A"], ["X2", "B"]]), "Queues")
    o = store.imp(write_text(tmp_path / "swap.txt", [["ExternalId", "Name"], ["X1", "B"], ["X2", "C"]]), "Queues")
    assert (o.status, o.totals.rejected, o.totals.updated) == ("partial", 1, 1)
    assert "row 2 column Name: Name 'B' already belongs to another queue" in log_of(o)
    o = store.imp(write_text(tmp_path / "ren.txt", [["ExternalId", "Name"], ["X1", "Z"], ["", "A"]]), "Queues")
    assert (o.status, o.totals.updated, o.totals.created) == ("succeeded", 1, 1)
    assert store.query("SELECT external_id, name FROM queues ORDER BY id") == [("X1", "Z"), ("X2", "C"), (None, "A")]
    store.imp(write_openpyxl(tmp_path / "u.xlsx", {"Users": [["Login", "ExternalId", "FirstName", "Surname"],
                                                                  ["ann", "E1", "A", "L"], ["bob", "E2", "B", "R"]]}), "Configuration")
    o = store.imp(write_openpyxl(tmp_path / "u2.xlsx", {"Users": [["ExternalId", "Login", "FirstName", "Surname"], ["E2", "ann", "B", "R"]]}), "Configuration")
    assert (o.status, o.error_code) == ("failed", "ALL_ROWS_REJECTED")
    assert "row 2 column Login: Login 'ann' already belongs to another user" in log_of(o)


def test_names_listed_twice(store: StoreUnderTest, tmp_path: Path) -> None:
    sheets: dict[str, Any] = {"Skills": [["Name"], ["S"], ["T"]], "Queues": [["Name", "Skills"], ["Q", "S;T;S"]],
                              "Users": [["Login", "FirstName", "Surname", "Skills", "Rights", "Queues"],
                                        ["ann", "A", "L", "S:3;T;S:3", "Agent;agent", "Q;Q"], ["bob", "B", "R", "S:3;S:4", "", ""]]}
    o = store.imp(write_openpyxl(tmp_path / "c.xlsx", sheets), "Configuration")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 4, 1)
    assert "row 3 column Skills: 'S' is listed twice with different levels" in log_of(o)
    o = store.imp(write_openpyxl(tmp_path / "c2.xlsx", sheets), "Configuration")
    assert (o.totals.unchanged, o.totals.updated) == (4, 0)  # a name listed twice counts once, so nothing changes
    assert store.query("SELECT rights FROM users") == [('["Agent"]',)]
