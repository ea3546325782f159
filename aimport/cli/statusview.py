"""What ``aimport status`` reports: folders, store counts, recent imports, campaigns; on a shared (PostgreSQL)
store also its units (their heartbeat rows) and who holds which write turn since when.

A drop folder's files are ``queued`` (waiting for their turn) or ``held`` (large files waiting for the end of
office hours, as the service lists them in ``STATE/held.json``), never both: ``oldest_queued`` is the oldest
file that waits for its turn, as ``aimport_pending_files`` and the jobs view count them.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from aimport.campaigns import model as campaign_model
from aimport.itemtypes.catalog import CATALOG
from aimport.layout import IMPORT_TYPES
from aimport.service.filters import ImportFileFilter
from aimport.service.officehours.heldlist import read_held
from aimport.settings import Settings
from aimport.store import auditqueries, turn
from aimport.store import system as store
from aimport.store import units as store_units
from aimport.store.db import Db, redact, store_exists
from aimport.store.schema import open_store

__all__ = ["collect", "office_hours", "units_and_turns"]


def collect(settings: Settings) -> dict[str, Any]:
    layout = settings.layout
    flt = ImportFileFilter()
    held_now = {(f.import_type, f.path.name) for f in read_held(settings.state_dir).files}
    folders = []
    for t in IMPORT_TYPES:
        queued, held, oldest = 0, 0, None
        try:
            for e in os.scandir(layout.type_dir(t)):
                if e.is_file(follow_symlinks=False) and flt.name_ok(e.name).accept:
                    if (t, e.name) in held_now:
                        held += 1
                        continue
                    queued += 1
                    m = e.stat().st_mtime
                    oldest = m if oldest is None else min(oldest, m)
        except OSError:
            pass
        try:
            in_process = sum(1 for e in os.scandir(layout.in_process_dir(t)) if e.is_file() and not e.name.startswith("."))
        except OSError:
            in_process = 0
        folders.append({"type": t, "queued": queued, "held": held, "in_process": in_process,
                        "oldest_queued": dt.datetime.fromtimestamp(oldest).isoformat(timespec="seconds") if oldest else None})
    items: dict[str, int] = {}
    campaigns: list[dict[str, Any]] = []
    shared: dict[str, Any] = {}
    address = settings.store_address
    if store_exists(address):
        with open_store(address) as db:
            for t_obj in CATALOG.all():
                items[t_obj.table] = store.count(db, t_obj)
            campaigns = campaign_model.summaries(db)
            if db.dialect == "postgresql":
                shared = units_and_turns(db)
    recent: list[dict[str, Any]] = []
    if settings.audit_db.exists():
        recent = auditqueries.list_imports(settings.audit_db, limit=10)
    return {"root": str(layout.automatic), "store": redact(settings.store_address), "folders": folders, "items": items,
            "campaigns": campaigns, "recent": recent, **shared,
            **office_hours(settings)}


def units_and_turns(db: Db) -> dict[str, Any]:
    """The store's units (heartbeat rows) and the write turns held or waited for now, as ``units`` and ``turns``."""
    return {"units": [u.as_dict() for u in store_units.listing(db)],
            "turns": [{"table": h.table, "holder": h.name, "exclusive": h.exclusive,
                       "held_s": None if h.held_s is None else round(h.held_s, 1),
                       "waiting_s": None if h.waiting_s is None else round(h.waiting_s, 1)}
                      for h in turn.holders(db)]}


def office_hours(settings: Settings) -> dict[str, Any]:
    """The files held for the end of office hours (STATE/held.json, written by the service) and its window now."""
    held = read_held(settings.state_dir)
    out: dict[str, Any] = {"held": [f.as_dict() for f in held.files]}
    schedule = held.schedule()
    if schedule is not None:
        now = dt.datetime.now(dt.UTC)
        change = schedule.next_boundary(now)
        out["office_hours"] = {"spec": schedule.spec, "time_zone": schedule.zone_name,
                               "now": "office_hours" if schedule.is_office(now) else "outside_office_hours",
                               "next_change": change.isoformat(timespec="minutes") if change else None}
    return out
