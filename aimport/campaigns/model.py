"""Campaign rules everyone needs: statuses, defaults, dates in a campaign's time zone, summaries.

The campaign record, the status names and the question record are the store's (:mod:`aimport.store.campaigns`
and :mod:`aimport.store.customers`, which hold every query on the campaign tables; the tables themselves
are created by :mod:`aimport.store.schema`); they are re-exported here so that the campaign code reads
them from one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aimport.store import campaigns as stored
from aimport.store import customers
from aimport.store.campaigns import ACTIVE, COMPLETE, EXPIRED, HANDLED, INVALID, PASSIVE, Campaign, Counts
from aimport.store.customers import CUSTOMER_COLUMNS, FILTERED, Question
from aimport.store.db import Db

__all__ = ["ACTIVE", "COMPLETE", "CUSTOMER_COLUMNS", "DEFAULT_REDIALS", "DEFAULT_REDIAL_INTERVAL_S", "EXPIRED",
           "FILTERED", "HANDLED", "INVALID", "PASSIVE", "Campaign", "CampaignError", "Counts", "Question", "ended",
           "not_started", "require", "script_questions", "summaries", "today_in"]

DEFAULT_REDIALS = 3
DEFAULT_REDIAL_INTERVAL_S = 600


class CampaignError(Exception):
    """A campaign operation cannot be done; the message says why (one line)."""


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


def require(db: Db, name: str, lock: bool = False) -> Campaign:
    """The campaign named ``name`` (``lock``: its row held until the transaction ends), or :class:`CampaignError`."""
    c = stored.get(db, name, lock)
    if c is None:
        raise CampaignError(f"no campaign named {name!r}")
    return c


def script_questions(db: Db, script: str | None) -> list[Question]:
    """The questions of ``script`` in their order (none without a script)."""
    return customers.questions(db, script)


def summaries(db: Db) -> list[dict[str, Any]]:
    """Every campaign in creation order as ``aimport campaign list`` and the status views show it: name, status,
    customers, handled, calls, exported (the export's file name once it is done), invalid_reason."""
    return [{"name": s.campaign.name, "status": s.campaign.status, **asdict(s.counts),
             "exported": s.campaign.export_name if s.campaign.exported_at else None,
             "invalid_reason": s.campaign.invalid_reason} for s in stored.summaries(db)]
