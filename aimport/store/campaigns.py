"""The campaign rows of the system store: the campaigns, their status changes, counts and summaries.

The campaign code says what it wants ("the campaigns still to announce", "set this status unless it
changed meanwhile") and the SQL here is written once for SQLite and PostgreSQL (timestamps come from
Python). A campaign's customers, the blocked numbers and the script's questions are in
:mod:`aimport.store.customers`; call attempts, answers and the export's rows and claims in
:mod:`aimport.store.calls`. The records and status names are the store's: :mod:`aimport.campaigns.model`
re-exports them next to the campaign rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aimport.store.db import Db

__all__ = ["ACTIVE", "COMPLETE", "EXPIRED", "HANDLED", "INVALID", "PASSIVE", "STATUSES", "Campaign", "CampaignSummary",
           "Counts", "NewCampaign", "by_id", "counts", "create", "describe", "every", "get", "mark_announced",
           "mark_completion_announced", "running", "set_status", "stamp", "status_counts", "summaries", "to_announce",
           "to_export"]

PASSIVE, ACTIVE, HANDLED, EXPIRED, INVALID = "Passive", "Active", "Handled", "Expired", "Invalid"
STATUSES = (PASSIVE, ACTIVE, HANDLED, EXPIRED, INVALID)
COMPLETE = (HANDLED, EXPIRED)


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
    export_unit: str | None = None  # the SERVER_UNIT folder whose Export/ the planned export is written to


COLUMNS = ("id", "name", "status", "script", "queue", "start_date", "end_date", "time_zone", "number_of_redials",
           "redial_interval_s", "copied_from", "invalid_reason", "extra_columns", "completed_at",
           "completion_reason", "export_name", "exported_at", "started_at", "export_ready", "export_unit")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM campaigns"


@dataclass(frozen=True)
class NewCampaign:
    """A campaign row as the importer creates it (Passive; its status is set once its customers are in)."""

    name: str
    script: str | None
    queue: str | None
    start_date: str | None
    end_date: str | None
    time_zone: str | None
    number_of_redials: int
    redial_interval_s: int
    copied_from: str | None
    created_by: str


@dataclass(frozen=True)
class Counts:
    customers: int
    handled: int  # customers with a result (finished)
    calls: int


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    counts: Counts


def stamp(at: dt.datetime | None = None) -> str:
    """A stored timestamp: ISO-8601 UTC with milliseconds (``2026-11-25T04:24:18.123Z``), as the schema's defaults."""
    at = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _campaign(row: Sequence[Any]) -> Campaign:
    values = dict(zip(COLUMNS, row))
    values["extra_columns"] = json.loads(values["extra_columns"] or "[]")
    return Campaign(**values)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _where(db: Db, where: str, args: Sequence[Any] = ()) -> list[Campaign]:
    return [_campaign(r) for r in db.execute(f"{SELECT} WHERE {where} ORDER BY id", args).fetchall()]


# --- campaign rows -----------------------------------------------------------------------


def get(db: Db, name: str, lock: bool = False) -> Campaign | None:
    """The campaign named ``name``; ``lock``: inside a write transaction, hold its row until the transaction ends
    (PostgreSQL ``FOR UPDATE``: calls recorded, closes and status changes of one campaign take turns)."""
    suffix = " FOR UPDATE" if lock and db.dialect == "postgresql" else ""
    row = db.execute(f"{SELECT} WHERE name = ?{suffix}", (name,)).fetchone()
    return _campaign(row) if row else None


def by_id(db: Db, campaign_id: int) -> Campaign | None:
    row = db.execute(f"{SELECT} WHERE id = ?", (campaign_id,)).fetchone()
    return _campaign(row) if row else None


def every(db: Db) -> list[Campaign]:
    return _where(db, "1 = 1")


def running(db: Db) -> list[Campaign]:
    """Campaigns not yet complete nor Invalid (Passive or Active): the supervisor's status changes look at these."""
    return _where(db, "status IN (?, ?)", (PASSIVE, ACTIVE))


def to_announce(db: Db) -> tuple[list[Campaign], list[Campaign]]:
    """Campaigns whose start (or Invalid creation) and whose completion are still to be announced."""
    started = _where(db, "announced = 0 AND (started_at IS NOT NULL OR status = ?)", (INVALID,))
    completed = _where(db, f"status IN ({_marks(COMPLETE)}) AND completion_announced = 0", COMPLETE)
    return started, completed


def to_export(db: Db) -> list[Campaign]:
    """Complete campaigns whose export is not yet done (announced)."""
    return _where(db, f"status IN ({_marks(COMPLETE)}) AND exported_at IS NULL", COMPLETE)


def create(db: Db, new: NewCampaign) -> int:
    """Insert a Passive campaign; its id."""
    cur = db.execute(
        "INSERT INTO campaigns (name, status, script, queue, start_date, end_date, time_zone, number_of_redials, "
        "redial_interval_s, copied_from, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (new.name, PASSIVE, new.script, new.queue, new.start_date, new.end_date, new.time_zone, new.number_of_redials,
         new.redial_interval_s, new.copied_from, new.created_by, stamp()))
    return int(cur.fetchone()[0])


def describe(db: Db, campaign_id: int, extra_columns: list[str], invalid_reason: str | None) -> None:
    """The customer data columns the campaign's file had, and why it is Invalid (None: it is not)."""
    db.execute("UPDATE campaigns SET extra_columns = ?, invalid_reason = ? WHERE id = ?",
               (json.dumps(extra_columns), invalid_reason, campaign_id))


def set_status(db: Db, campaign_id: int, status: str, reason: str | None = None, expect: str | None = None,
               at: dt.datetime | None = None) -> bool:
    """Change the status (only if it still is ``expect``, when given); True if it changed. Completing notes
    when and why, starting (Active) notes when."""
    guard, args = (" AND status = ?", (expect,)) if expect else ("", ())
    now = stamp(at)
    if status in COMPLETE:
        cur = db.execute(f"UPDATE campaigns SET status = ?, completed_at = ?, completion_reason = ? WHERE id = ?{guard}",
                         (status, now, reason, campaign_id, *args))
    elif status == ACTIVE:
        cur = db.execute(f"UPDATE campaigns SET status = ?, started_at = ? WHERE id = ?{guard}",
                         (status, now, campaign_id, *args))
    else:
        cur = db.execute(f"UPDATE campaigns SET status = ? WHERE id = ?{guard}", (status, campaign_id, *args))
    return int(cur.rowcount) > 0


def mark_announced(db: Db, campaign_id: int) -> None:
    db.execute("UPDATE campaigns SET announced = 1 WHERE id = ?", (campaign_id,))


def mark_completion_announced(db: Db, campaign_id: int) -> None:
    db.execute("UPDATE campaigns SET completion_announced = 1 WHERE id = ?", (campaign_id,))


# --- counts -----------------------------------------------------------------------------


_COUNTS = ("COUNT(cu.id), COALESCE(SUM(CASE WHEN cu.result IS NOT NULL THEN 1 ELSE 0 END), 0), "
           "COALESCE(SUM(cu.number_of_calls), 0)")


def counts(db: Db, campaign_id: int) -> Counts:
    row = db.execute(f"SELECT {_COUNTS} FROM customers cu WHERE cu.campaign_id = ?", (campaign_id,)).fetchone()
    return Counts(int(row[0]), int(row[1]), int(row[2]))


def summaries(db: Db) -> list[CampaignSummary]:
    """Every campaign with its counts, in creation order (one query)."""
    cols = ", ".join(f"c.{c}" for c in COLUMNS)
    out = []
    for r in db.execute(f"SELECT {cols}, {_COUNTS} FROM campaigns c LEFT JOIN customers cu ON cu.campaign_id = c.id "
                        "GROUP BY c.id ORDER BY c.id").fetchall():
        n = len(COLUMNS)
        out.append(CampaignSummary(_campaign(r[:n]), Counts(int(r[n]), int(r[n + 1]), int(r[n + 2]))))
    return out


def status_counts(db: Db) -> dict[str, int]:
    """How many campaigns have each status (every status, 0 included)."""
    found = {s: int(n) for s, n in db.execute("SELECT status, COUNT(*) FROM campaigns GROUP BY status").fetchall()}
    return {s: found.get(s, 0) for s in STATUSES}
