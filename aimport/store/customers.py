"""A campaign's customers in the system store, and what decides whom to call: loading a file's customers,
the blocked numbers, the script's questions, the queue.

SQL written once for SQLite and PostgreSQL; the campaign rows themselves are :mod:`aimport.store.campaigns`,
the calls and exports :mod:`aimport.store.calls`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from aimport.itemtypes.catalog import CUSTOMER
from aimport.store.campaigns import ACTIVE
from aimport.store.db import Db

__all__ = ["CUSTOMER_COLUMNS", "FILTERED", "CustomerLine", "DemoCall", "Question", "add_customers", "anyone_left",
           "customer_lines", "demo_call", "filter_blocked", "is_blocked", "questions", "queue_exists", "script_exists"]

FILTERED = "Filtered"  # customer result: every number of the customer is blocked
# a customer's columns in the customers table, one per customer column of a campaign file (catalog CUSTOMER)
CUSTOMER_COLUMNS = tuple(f.column for f in CUSTOMER.fields)


@dataclass(frozen=True)
class Question:
    """One question of a script (the Scripts folder's rows)."""

    id: str
    question: str | None
    type: str  # Text, Choice, Number, Date
    options: tuple[str, ...]
    mandatory: bool


@dataclass(frozen=True)
class CustomerLine:
    """A customer as ``aimport campaign show`` lists it."""

    external_id: str
    phone1: str
    result: str | None
    number_of_calls: int
    last_call_result: str | None
    agent: str | None
    called_at: str | None


@dataclass(frozen=True)
class DemoCall:
    campaign: str
    external_id: str
    script: str | None


def add_customers(db: Db, campaign_id: int, scratch: Path) -> None:
    """Load a file's checked customers, in file order, from its scratch file (table ``staged``: ``row_no``,
    ``CUSTOMER_COLUMNS``, ``data``). SQLite reads the file attached beforehand (:func:`aimport.store.system.
    attach_stage`, outside the transaction); PostgreSQL gets the rows by ``COPY``."""
    cols = ", ".join((*CUSTOMER_COLUMNS, "data"))
    if db.dialect == "sqlite":
        db.execute(f"INSERT INTO customers (campaign_id, {cols}) SELECT ?, {cols} FROM stage.staged ORDER BY row_no",
                   (campaign_id,))
        return
    with closing(sqlite3.connect(scratch)) as source:
        rows = source.execute(f"SELECT {cols} FROM staged ORDER BY row_no")
        db.copy_rows("customers", ("campaign_id", *CUSTOMER_COLUMNS, "data"), ((campaign_id, *r) for r in rows))


def anyone_left(db: Db, campaign_id: int) -> bool:
    """Some customer still has no result (is still to be called)."""
    return db.execute("SELECT 1 FROM customers WHERE campaign_id = ? AND result IS NULL LIMIT 1",
                      (campaign_id,)).fetchone() is not None


def customer_lines(db: Db, campaign_id: int, limit: int) -> list[CustomerLine]:
    rows = db.execute("SELECT external_id, phone1, result, number_of_calls, last_call_result, agent, called_at "
                      "FROM customers WHERE campaign_id = ? ORDER BY id LIMIT ?", (campaign_id, limit)).fetchall()
    return [CustomerLine(*r) for r in rows]


def demo_call(db: Db) -> DemoCall | None:
    """SIMULATION: an open customer of an Active campaign, the least called first (random among equals)."""
    row = db.execute(
        "SELECT c.name, cu.external_id, c.script FROM customers cu JOIN campaigns c ON c.id = cu.campaign_id "
        "WHERE c.status = ? AND cu.result IS NULL ORDER BY cu.number_of_calls, RANDOM() LIMIT 1", (ACTIVE,)).fetchone()
    return DemoCall(*row) if row else None


# --- what a campaign refers to: scripts, queues, blocked numbers ------------------------------


def questions(db: Db, script: str | None) -> list[Question]:
    if not script:
        return []
    rows = db.execute("SELECT question_id, question, answer_type, options, mandatory FROM script_questions "
                      "WHERE script = ? ORDER BY id", (script,)).fetchall()
    return [Question(r[0], r[1], r[2] or "Text", tuple(o.strip() for o in (r[3] or "").split(";") if o.strip()),
                     bool(r[4])) for r in rows]


def script_exists(db: Db, script: str) -> bool:
    return db.execute("SELECT 1 FROM script_questions WHERE script = ? LIMIT 1", (script,)).fetchone() is not None


def queue_exists(db: Db, queue: str) -> bool:
    return db.execute("SELECT 1 FROM queues WHERE name = ? LIMIT 1", (queue,)).fetchone() is not None


_BLOCKED_ON = "SELECT number FROM blocked_numbers WHERE number IS NOT NULL AND (valid_until IS NULL OR valid_until >= ?)"


def is_blocked(db: Db, number: str, today: dt.date) -> bool:
    """``number`` is on the blocked list on ``today``. Compares stored forms: blocked numbers and customers'
    phones are both stored as :func:`aimport.itemtypes.phones.normalise_phone` gives them for the store's
    ``phone_region`` (re-normalised when it changes: :mod:`aimport.store.storedphones`), so they match however
    either was written; a number from anywhere else must be normalised the same way before it is looked up."""
    return db.execute(f"SELECT 1 FROM ({_BLOCKED_ON}) b WHERE b.number = ?",
                      (today.isoformat(), number)).fetchone() is not None


def filter_blocked(db: Db, campaign_id: int, today: dt.date) -> int:
    """Skip blocked numbers: each open customer starts at its first callable number; one with none is Filtered.
    Returns how many customers of the campaign are Filtered. Stored forms are compared (see :func:`is_blocked`)."""
    day = today.isoformat()
    if db.execute(f"SELECT 1 FROM ({_BLOCKED_ON}) b LIMIT 1", (day,)).fetchone() is None:
        return 0
    db.execute("CREATE TEMP TABLE IF NOT EXISTS aimport_blocked_now (number TEXT PRIMARY KEY)")
    db.execute("DELETE FROM aimport_blocked_now")
    db.execute(f"INSERT INTO aimport_blocked_now SELECT DISTINCT b.number FROM ({_BLOCKED_ON}) b WHERE true "
               "ON CONFLICT DO NOTHING", (day,))
    blocked = "(SELECT number FROM aimport_blocked_now)"
    ok = [f"({p} IS NOT NULL AND {p} NOT IN {blocked})" for p in ("phone1", "phone2", "phone3")]
    db.execute(
        f"UPDATE customers SET next_phone = CASE WHEN {ok[0]} THEN 1 WHEN {ok[1]} THEN 2 WHEN {ok[2]} THEN 3 "
        f"ELSE next_phone END, result = CASE WHEN {ok[0]} OR {ok[1]} OR {ok[2]} THEN result ELSE ? END "
        f"WHERE campaign_id = ? AND result IS NULL AND (phone1 IN {blocked} OR phone2 IN {blocked} OR phone3 IN {blocked})",
        (FILTERED, campaign_id))
    db.execute("DELETE FROM aimport_blocked_now")
    row = db.execute("SELECT COUNT(*) FROM customers WHERE campaign_id = ? AND result = ?",
                     (campaign_id, FILTERED)).fetchone()
    return int(row[0])
