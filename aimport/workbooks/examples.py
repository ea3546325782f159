"""Filled examples for every import type ("Examples and Templates", as the product ships them).

``aimport template --all -o DIR --examples`` writes them next to the templates, numbered in the order
that imports them into an empty system: a row may only name objects that an earlier example created
(groups before users, calendars and skills before queues, scripts and queues before the campaign).
Each example is a filled-in template (same headers, comments and drop-down lists), and each imports
with status ``succeeded`` into a fresh store (``tests/test_templates.py`` drops them all, in order,
into the real service).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Example:
    folder: str  # the drop folder it goes into
    sheets: dict[str, list[Row]]  # sheet name in the template -> rows by header

    def file_name(self, number: int) -> str:
        return f"{number:02d} {self.folder} example.xlsx"


EXAMPLES: tuple[Example, ...] = (
    Example("UserGroup", {"UserGroups": [
        {"ExternalId": "G-1", "Name": "Contact center", "Description": "everyone"},
        {"ExternalId": "G-2", "Name": "Sales team", "Parent": "Contact center"},
        {"ExternalId": "G-3", "Name": "Support team", "Parent": "Contact center"},
    ]}),
    Example("Calendar", {"Calendars": [
        {"Name": "Office hours", "Description": "weekdays and Saturday morning", "TimeZone": "Europe/Helsinki",
         "OpeningHours": "Mon-Fri 08:00-17:00; Sat 09:00-13:00", "Holidays": "2026-12-24;2026-12-25"},
    ]}),
    Example("Skills", {"Skills": [
        {"Name": "Sales", "Description": "selling subscriptions"},
        {"Name": "Billing", "Description": "invoices and payments"},
        {"Name": "Finnish"}, {"Name": "English"},
    ]}),
    Example("Presence", {"PresenceProfiles": [
        {"Name": "Lunch", "Status": "Away"}, {"Name": "Training", "Status": "Busy"},
        {"Name": "Back office", "Description": "not taking calls", "Status": "Busy"},
    ]}),
    Example("Scripts", {"Scripts": [
        {"Script": "Survey", "QuestionId": "Q1", "Question": "Are you happy with the service?",
         "AnswerType": "Choice", "Options": "Yes;No", "Mandatory": "Yes"},
        {"Script": "Survey", "QuestionId": "Q2", "Question": "When may we call again?", "AnswerType": "Date",
         "Mandatory": "No"},
        {"Script": "Survey", "QuestionId": "Q3", "Question": "Anything else?", "AnswerType": "Text", "Mandatory": "No"},
    ]}),
    Example("Queues", {"Queues": [
        {"ExternalId": "Q-100", "Name": "Sales line", "Channel": "Voice", "Calendar": "Office hours",
         "Skills": "Sales;Finnish", "Priority": 5},
        {"ExternalId": "Q-200", "Name": "Billing chat", "Channel": "Chat", "Calendar": "Office hours",
         "Skills": "Billing;English", "Priority": 3},
    ]}),
    Example("Directory", {"Directory": [
        {"ExternalId": "D-1", "FirstName": "Maija", "LastName": "Meikäläinen", "Company": "ACME Oy",
         "Phone": "+358 9 1234 5678", "Mobile": "+358 40 123 4567", "Email": "maija@example.com", "Department": "Finance"},
        {"ExternalId": "D-2", "Company": "Pizza Express", "Phone": "+358 9 555 1234", "DirectoryGroup": "Suppliers"},
    ]}),
    Example("BlockedNumbers", {"BlockedNumbers": [
        {"Number": "+358 40 000 0000", "Description": "asked not to be called"},
        {"Number": "+358 700 123 456", "Description": "premium-rate line", "ValidUntil": "2099-12-31"},
    ]}),
    Example("Configuration", {"Users": [
        {"ExternalId": "U-1", "Login": "ann", "FirstName": "Ann", "Surname": "Lee", "Email": "ann@example.com",
         "UserGroup": "Sales team", "PresenceProfile": "Lunch", "Queues": "Sales line",
         "Skills": "Sales:5;Finnish:3", "Rights": "Agent"},
        {"ExternalId": "U-2", "Login": "bob", "FirstName": "Bob", "Surname": "Berg", "UserGroup": "Support team",
         "Queues": "Billing chat", "Skills": "Billing:4;English:2", "Rights": "Agent;Supervise;Report"},
    ]}),
    Example("OutboundCampaign", {
        "Campaign": [{"Setting": "Name", "Value": "Example campaign"}, {"Setting": "Script", "Value": "Survey"},
                     {"Setting": "Queue", "Value": "Sales line"}, {"Setting": "NumberOfRedials", "Value": 2},
                     {"Setting": "RedialInterval", "Value": 900}, {"Setting": "TimeZone", "Value": "Europe/Helsinki"}],
        "Customers": [
            {"ExternalId": "C-1", "Phone1": "+358 40 111 1111", "FirstName": "Aino", "LastName": "Virtanen",
             "Company": "Virtanen Oy", "Priority": 1, "Contract": "K-1001"},
            {"ExternalId": "C-2", "Phone1": "+358 40 222 2222", "Phone2": "+358 9 222 2222", "FirstName": "Eero",
             "LastName": "Korhonen", "Contract": "K-1002"},
        ],
    }),
)


def write_examples(out_dir: Path) -> list[Path]:
    """Write every example into ``out_dir`` as a filled-in template; returns the paths in import order."""
    import openpyxl

    from aimport.atomicfile import replacing
    from aimport.workbooks.templates import write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for number, ex in enumerate(EXAMPLES, start=1):
        path = out_dir / ex.file_name(number)
        write_xlsx(ex.folder, path)
        wb = openpyxl.load_workbook(path)
        for sheet in [s for s in wb.sheetnames if s not in ex.sheets]:
            del wb[sheet]  # a Configuration example fills only some sheets; an empty one would say NO_ROWS
        for sheet, rows in ex.sheets.items():
            _fill(wb[sheet], rows, settings=(sheet == "Campaign"))
        with replacing(path) as tmp:
            wb.save(tmp)
        written.append(path)
    return written


def _fill(ws: Any, rows: list[Row], settings: bool) -> None:
    if settings:  # the Campaign sheet lists every setting: fill in the Value column
        where = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
        for row in rows:
            ws.cell(row=where[row["Setting"]], column=2, value=row["Value"])
        return
    headers = [c.value for c in ws[1]]
    for row in rows:
        for name in row:
            if name not in headers:  # any other customer column is kept as customer data
                headers.append(name)
                ws.cell(row=1, column=len(headers), value=name)
        ws.append([row.get(h) for h in headers])
