"""Calls and exports in the system store: a customer's call state, one recorded call (its attempt, the
customer's new state, the script answers), the rows of a campaign's export, the export's states, and
the claim that lets one instance at a time announce and export a campaign.

The claim, on PostgreSQL, is a session advisory lock on the campaign (``pg_try_advisory_lock``): held
by the supervisor pass that took it across the export's steps (each committed on its own, so a crash
leaves a state to resume from) until their audit events are acknowledged, and released by the server
when that instance's connection ends, killed or not. Another instance skips a claimed campaign and
resumes the export of one whose claimer died. On SQLite one instance owns the store: a claim is
always granted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aimport.store.campaigns import stamp
from aimport.store.customers import CUSTOMER_COLUMNS
from aimport.store.db import Db

__all__ = ["CustomerCall", "ExportRow", "RecordedCall", "claim_campaign", "customer_for_call", "export_rows",
           "mark_exported", "plan_export", "record_call", "release_campaign", "set_export_ready"]

CLAIM_LOCK_CLASS = 0x61696D65  # "aime": the first key of a campaign's advisory lock, the campaign id the second
PAGE = 5000  # export rows read per query (memory stays flat on any campaign size)


@dataclass(frozen=True)
class CustomerCall:
    """A customer's call state, as a new call result needs it."""

    id: int
    result: str | None  # None: still to be called
    number_of_calls: int
    next_phone: int  # 1..3: the number the next call goes to
    phones: tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class RecordedCall:
    """One call attempt and what it leaves the customer with."""

    customer_id: int
    at: str  # when the call was made, ISO 8601
    phone: str | None  # the number called
    call_result: str
    classification: str | None
    agent: str | None
    result: str | None  # the customer's result after the call; None: to be called again
    number_of_calls: int
    next_phone: int
    next_call_at: str | None
    answers: dict[str, str]  # script answers by question id


@dataclass(frozen=True)
class ExportRow:
    """One customer of a campaign's export: its columns, its customer data, its call outcome and answers."""

    customer: tuple[Any, ...]  # in CUSTOMER_COLUMNS order
    data: dict[str, Any]  # the file's extra columns
    result: str | None
    call_result: str | None
    classification: str | None
    number_of_calls: int
    agent: str | None
    called_at: str | None
    answers: dict[str, str]


def customer_for_call(db: Db, campaign_id: int, external_id: str) -> CustomerCall | None:
    row = db.execute("SELECT id, result, number_of_calls, next_phone, phone1, phone2, phone3 FROM customers "
                     "WHERE campaign_id = ? AND external_id = ?", (campaign_id, external_id)).fetchone()
    if row is None:
        return None
    return CustomerCall(int(row[0]), row[1], int(row[2]), int(row[3]), (row[4], row[5], row[6]))


def record_call(db: Db, call: RecordedCall) -> None:
    """Store one call: the customer's new state, the attempt, the answers (an answer given again replaces the last)."""
    db.execute(
        "UPDATE customers SET result = ?, number_of_calls = ?, last_call_result = ?, classification = ?, "
        "agent = ?, called_at = ?, next_phone = ?, next_call_at = ? WHERE id = ?",
        (call.result, call.number_of_calls, call.call_result, call.classification, call.agent, call.at,
         call.next_phone, call.next_call_at, call.customer_id))
    db.execute("INSERT INTO call_attempts (customer_id, at, phone, call_result, classification, agent) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               (call.customer_id, call.at, call.phone, call.call_result, call.classification, call.agent))
    if call.answers:
        db.executemany("INSERT INTO answers (customer_id, question_id, answer) VALUES (?, ?, ?) "
                       "ON CONFLICT (customer_id, question_id) DO UPDATE SET answer = excluded.answer",
                       [(call.customer_id, q, a) for q, a in call.answers.items()])


def export_rows(db: Db, campaign_id: int, page: int = PAGE) -> Iterator[ExportRow]:
    """The campaign's customers in import order with their outcome and answers, read a page at a time.

    Each page is a range of the primary key (``+campaign_id`` keeps both databases off the campaign
    indexes, which would read the whole campaign for every page), its answers a range of theirs.
    """
    n = len(CUSTOMER_COLUMNS)
    lo, hi = db.execute("SELECT MIN(id), MAX(id) FROM customers WHERE campaign_id = ?", (campaign_id,)).fetchone()
    if lo is None:
        return
    sql = (f"SELECT id, {', '.join(CUSTOMER_COLUMNS)}, data, result, last_call_result, classification, "
           "number_of_calls, agent, called_at FROM customers WHERE id >= ? AND id <= ? AND +campaign_id = ? "
           "ORDER BY id LIMIT ?")
    start = int(lo)
    while start <= hi:
        rows = db.execute(sql, (start, hi, campaign_id, page)).fetchall()
        if not rows:
            return
        first, last = int(rows[0][0]), int(rows[-1][0])
        answers: dict[int, dict[str, str]] = {}
        for cid, question, answer in db.execute(
                "SELECT customer_id, question_id, answer FROM answers WHERE customer_id >= ? AND customer_id <= ?",
                (first, last)).fetchall():
            answers.setdefault(int(cid), {})[question] = answer  # another campaign's in the range: never looked up
        for r in rows:
            result, call_result, classification, calls, agent, called_at = r[n + 2:]
            yield ExportRow(tuple(r[1:n + 1]), json.loads(r[n + 1]) if r[n + 1] else {}, result, call_result,
                            classification, int(calls or 0), agent, called_at, answers.get(int(r[0]), {}))
        start = last + 1


# --- the export's states and its claim ----------------------------------------------------


def claim_campaign(db: Db, campaign_id: int) -> bool:
    """This connection's turn to announce and export the campaign: False while another instance holds it.

    PostgreSQL: a session advisory lock, kept across commits until :func:`release_campaign` or the end of
    the connection (also when the process is killed). SQLite: always True (one instance owns the store).
    """
    if db.dialect != "postgresql":
        return True
    row = db.execute("SELECT pg_try_advisory_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))",
                     (CLAIM_LOCK_CLASS, campaign_id)).fetchone()
    return bool(row[0])


def release_campaign(db: Db, campaign_id: int) -> None:
    if db.dialect == "postgresql":
        db.execute("SELECT pg_advisory_unlock(CAST(? AS INTEGER), CAST(? AS INTEGER))", (CLAIM_LOCK_CLASS, campaign_id))


def plan_export(db: Db, campaign_id: int, name: str, unit: str) -> None:
    """The intent: the export's file name and the unit folder (``SERVER_UNIT``) whose Export/ gets it, fixed
    before anything is written, so whichever instance resumes it finishes it in the same folder."""
    db.execute("UPDATE campaigns SET export_name = ?, export_unit = ? WHERE id = ?", (name, unit, campaign_id))


def set_export_ready(db: Db, campaign_id: int, ready: bool) -> None:
    """Ready: the temp file is complete and synced (only the rename may be missing); not ready: it is gone."""
    db.execute("UPDATE campaigns SET export_ready = ? WHERE id = ?", (1 if ready else 0, campaign_id))


def mark_exported(db: Db, campaign_id: int, at: dt.datetime | None = None) -> None:
    """The export is in Export/ and its audit event recorded: done, never again."""
    db.execute("UPDATE campaigns SET exported_at = ? WHERE id = ? AND exported_at IS NULL", (stamp(at), campaign_id))
