"""The campaign export: one row per customer, call outcome, and one column per script question."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from aimport.campaigns import model
from aimport.sheetwriter import SheetWriter

BASE = ["ExternalId", "Phone1", "Phone2", "Phone3", "FirstName", "LastName", "Company", "Priority", "TimeZone"]
OUTCOME = ["Result", "Call Result", "Call Classification", "Number of Calls", "Agent", "Date and Time"]
RESERVED = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_name(name: str) -> str:
    """A campaign name usable as a file name inside Export/ (no separators, no ``..``, no reserved chars)."""
    cleaned = RESERVED.sub("_", name).strip().strip(".")
    cleaned = cleaned.replace("..", "_")
    return (cleaned or "campaign")[:150]


def headers(c: model.Campaign, questions: list[dict[str, Any]]) -> list[str]:
    return BASE + c.extra_columns + OUTCOME + [q["id"] for q in questions]


def rows(conn: sqlite3.Connection, c: model.Campaign, questions: list[dict[str, Any]]) -> Iterator[list[Any]]:
    answers = conn.execute(
        "SELECT a.customer_id, a.question_id, a.answer FROM answers a JOIN customers cu ON cu.id = a.customer_id "
        "WHERE cu.campaign_id = ? ORDER BY a.customer_id", (c.id,))
    pending = answers.fetchone()
    qids = [q["id"] for q in questions]
    cur = conn.execute(
        "SELECT id, external_id, phone1, phone2, phone3, first_name, last_name, company, priority, time_zone, data, "
        "result, last_call_result, classification, number_of_calls, agent, called_at FROM customers "
        "WHERE campaign_id = ? ORDER BY id", (c.id,))
    for r in cur:
        cid = r[0]
        given: dict[str, Any] = {}
        while pending is not None and pending[0] <= cid:
            if pending[0] == cid:
                given[pending[1]] = pending[2]
            pending = answers.fetchone()
        data = json.loads(r[10]) if r[10] else {}
        result = r[11] or ("Not called" if not r[14] else "Open")
        yield (list(r[1:10]) + [data.get(k) for k in c.extra_columns]
               + [result, r[12], r[13], r[14], r[15], r[16]] + [given.get(q) for q in qids])


def write_export(conn: sqlite3.Connection, c: model.Campaign, out: Path,
                 before_rename: Callable[[], None] | None = None) -> int:
    """Write the export to a temp name and rename it to ``out``; returns customer rows written."""
    questions = model.script_questions(conn, c.script)
    writer = SheetWriter(out)
    try:
        n = writer.sheet("Customers", headers(c, questions), rows(conn, c, questions))
        summary = [["Campaign", c.name], ["Status", c.status], ["Completed", c.completed_at or ""],
                   ["Reason", c.completion_reason or ""], ["Script", c.script or ""], ["Queue", c.queue or ""]]
        writer.sheet("Campaign", ["Setting", "Value"], summary)
        writer.close(before_rename)
    except BaseException:
        writer.abort()
        raise
    return n
