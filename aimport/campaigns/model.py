"""Campaign tables in the system store and the small queries everyone needs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aimport.itemtypes.catalog import CUSTOMER

PASSIVE, ACTIVE, HANDLED, EXPIRED, INVALID = "Passive", "Active", "Handled", "Expired", "Invalid"
COMPLETE = (HANDLED, EXPIRED)
FILTERED = "Filtered"  # customer result: every number of the customer is blocked
DEFAULT_REDIALS = 3
DEFAULT_REDIAL_INTERVAL_S = 600
# a customer's columns in the customers table, one per customer column of a campaign file (catalog CUSTOMER)
CUSTOMER_COLUMNS = tuple(f.column for f in CUSTOMER.fields)

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    script TEXT, queue TEXT, start_date TEXT, end_date TEXT, time_zone TEXT,
    number_of_redials INTEGER NOT NULL DEFAULT 3, redial_interval_s INTEGER NOT NULL DEFAULT 600,
    copied_from TEXT, invalid_reason TEXT, extra_columns TEXT NOT NULL DEFAULT '[]',
    created_by TEXT, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    completed_at TEXT, completion_reason TEXT,
    announced INTEGER NOT NULL DEFAULT 0, completion_announced INTEGER NOT NULL DEFAULT 0,
    export_name TEXT, exported_at TEXT, started_at TEXT, export_ready INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, campaign_id INTEGER NOT NULL, external_id TEXT NOT NULL,
    phone1 TEXT NOT NULL, phone2 TEXT, phone3 TEXT, first_name TEXT, last_name TEXT, company TEXT,
    priority INTEGER, time_zone TEXT, data TEXT,
    result TEXT, number_of_calls INTEGER NOT NULL DEFAULT 0, last_call_result TEXT, classification TEXT,
    agent TEXT, called_at TEXT, next_phone INTEGER NOT NULL DEFAULT 1, next_call_at TEXT,
    UNIQUE (campaign_id, external_id)
);
CREATE INDEX IF NOT EXISTS ix_customers_open ON customers (campaign_id, result);
CREATE TABLE IF NOT EXISTS call_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER NOT NULL, at TEXT NOT NULL, phone TEXT,
    call_result TEXT NOT NULL, classification TEXT, agent TEXT
);
CREATE INDEX IF NOT EXISTS ix_attempts_customer ON call_attempts (customer_id);
CREATE TABLE IF NOT EXISTS answers (
    customer_id INTEGER NOT NULL, question_id TEXT NOT NULL, answer TEXT, PRIMARY KEY (customer_id, question_id)
);
"""


class CampaignError(Exception):
    """A campaign operation cannot be done; the message says why (one line)."""


@dataclass
class Campaign:
    id: int
    name: str
    status: str
    script: str | None
    queue: str | None
    start_date: str | None
    end_date: str | None
    time_zone: str | None
    number_of_redials: int
    redial_interval_s: int
    copied_from: str | None
    invalid_reason: str | None
    extra_columns: list[str]
    completed_at: str | None
    completion_reason: str | None
    export_name: str | None  # the planned export file (the intent), set before writing
    exported_at: str | None  # set once the export is in Export/ and its audit event is recorded
    started_at: str | None
    export_ready: int  # 1: the temp file is complete and synced; only the rename may be missing


COLUMNS = ("id", "name", "status", "script", "queue", "start_date", "end_date", "time_zone", "number_of_redials",
           "redial_interval_s", "copied_from", "invalid_reason", "extra_columns", "completed_at",
           "completion_reason", "export_name", "exported_at", "started_at", "export_ready")
ADDED = {"started_at": "TEXT", "export_ready": "INTEGER NOT NULL DEFAULT 0"}  # columns newer than the first schema
BLOCKED_NOW = "SELECT number FROM blocked_numbers WHERE valid_until IS NULL OR valid_until >= ?"


def ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    have = {r[1] for r in conn.execute("PRAGMA table_info(campaigns)")}
    for column, decl in ADDED.items():
        if column not in have:
            try:
                conn.execute(f"ALTER TABLE campaigns ADD COLUMN {column} {decl}")
            except sqlite3.OperationalError as exc:  # another process added it a moment ago
                if "duplicate column" not in str(exc):
                    raise
                continue
            if column == "started_at":  # campaigns from before: every valid one was started at import
                conn.execute("UPDATE campaigns SET started_at = created_at WHERE status != ?", (INVALID,))


def today_in(time_zone: str | None) -> dt.date:
    """Today's date in the campaign's time zone (the service's local date without one)."""
    if time_zone:
        try:
            return dt.datetime.now(ZoneInfo(time_zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.date.today()


def not_started(c: Campaign) -> bool:
    """The StartDate is still ahead (in the campaign's time zone)."""
    return bool(c.start_date) and str(c.start_date) > today_in(c.time_zone).isoformat()


def ended(c: Campaign) -> bool:
    """The EndDate has passed (the campaign runs to the end of its EndDate, in its time zone)."""
    return bool(c.end_date) and str(c.end_date) < today_in(c.time_zone).isoformat()


def is_blocked(conn: sqlite3.Connection, number: str) -> bool:
    return conn.execute(f"SELECT 1 FROM ({BLOCKED_NOW}) WHERE number = ?",
                        (dt.date.today().isoformat(), number)).fetchone() is not None


def filter_blocked(conn: sqlite3.Connection, campaign_id: int) -> int:
    """Skip blocked numbers: start at the first callable one; a customer with none is Filtered. Returns how many."""
    today = dt.date.today().isoformat()
    if conn.execute(f"SELECT 1 FROM ({BLOCKED_NOW}) LIMIT 1", (today,)).fetchone() is None:
        return 0
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS blocked_now (number TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM blocked_now")
    conn.execute(f"INSERT OR IGNORE INTO blocked_now {BLOCKED_NOW}", (today,))
    ok = [f"({p} IS NOT NULL AND {p} NOT IN (SELECT number FROM blocked_now))"
          for p in ("phone1", "phone2", "phone3")]
    conn.execute(
        f"UPDATE customers SET next_phone = CASE WHEN {ok[0]} THEN 1 WHEN {ok[1]} THEN 2 WHEN {ok[2]} THEN 3 "
        f"ELSE next_phone END, result = CASE WHEN {ok[0]} OR {ok[1]} OR {ok[2]} THEN result ELSE ? END "
        "WHERE campaign_id = ? AND result IS NULL AND (phone1 IN (SELECT number FROM blocked_now) "
        "OR phone2 IN (SELECT number FROM blocked_now) OR phone3 IN (SELECT number FROM blocked_now))",
        (FILTERED, campaign_id))
    conn.execute("DELETE FROM blocked_now")
    row = conn.execute("SELECT COUNT(*) FROM customers WHERE campaign_id = ? AND result = ?",
                       (campaign_id, FILTERED)).fetchone()
    return int(row[0])


def _campaign(row: tuple[Any, ...]) -> Campaign:
    values = dict(zip(COLUMNS, row))
    values["extra_columns"] = json.loads(values["extra_columns"] or "[]")
    return Campaign(**values)


def get(conn: sqlite3.Connection, name: str) -> Campaign | None:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM campaigns WHERE name = ?", (name,)).fetchone()
    return _campaign(row) if row else None


def require(conn: sqlite3.Connection, name: str) -> Campaign:
    c = get(conn, name)
    if c is None:
        raise CampaignError(f"no campaign named {name!r}")
    return c


def all_campaigns(conn: sqlite3.Connection, where: str = "1", args: tuple[Any, ...] = ()) -> list[Campaign]:
    return [_campaign(r) for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM campaigns WHERE {where} ORDER BY id", args)]


def counts(conn: sqlite3.Connection, campaign_id: int) -> dict[str, int]:
    row = conn.execute(
        "SELECT COUNT(*), SUM(result IS NOT NULL), SUM(number_of_calls) FROM customers WHERE campaign_id = ?",
        (campaign_id,)).fetchone()
    return {"customers": row[0] or 0, "handled": row[1] or 0, "calls": row[2] or 0}


def summaries(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    out = []
    for c in all_campaigns(conn):
        n = counts(conn, c.id)
        out.append({"name": c.name, "status": c.status, "customers": n["customers"], "handled": n["handled"],
                    "calls": n["calls"], "exported": c.export_name if c.exported_at else None,
                    "invalid_reason": c.invalid_reason})
    return out


def script_questions(conn: sqlite3.Connection, script: str | None) -> list[dict[str, Any]]:
    if not script:
        return []
    rows = conn.execute(
        "SELECT question_id, question, answer_type, options, mandatory FROM script_questions WHERE script = ? ORDER BY id",
        (script,)).fetchall()
    return [{"id": r[0], "question": r[1], "type": r[2] or "Text",
             "options": [o.strip() for o in (r[3] or "").split(";") if o.strip()], "mandatory": bool(r[4])} for r in rows]


def script_exists(conn: sqlite3.Connection, script: str) -> bool:
    return conn.execute("SELECT 1 FROM script_questions WHERE script = ? LIMIT 1", (script,)).fetchone() is not None


def queue_exists(conn: sqlite3.Connection, queue: str) -> bool:
    return conn.execute("SELECT 1 FROM queues WHERE name = ? LIMIT 1", (queue,)).fetchone() is not None


def set_status(conn: sqlite3.Connection, campaign_id: int, status: str, reason: str | None = None,
               expect: str | None = None) -> bool:
    """Change the status (only if it still is ``expect``, when given); True if it changed."""
    guard, args = (" AND status = ?", (expect,)) if expect else ("", ())
    now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
    if status in COMPLETE:
        cur = conn.execute(f"UPDATE campaigns SET status = ?, completed_at = {now}, completion_reason = ? "
                           f"WHERE id = ?{guard}", (status, reason, campaign_id, *args))
    elif status == ACTIVE:
        cur = conn.execute(f"UPDATE campaigns SET status = ?, started_at = {now} WHERE id = ?{guard}",
                           (status, campaign_id, *args))
    else:
        cur = conn.execute(f"UPDATE campaigns SET status = ? WHERE id = ?{guard}", (status, campaign_id, *args))
    return cur.rowcount > 0
