"""The campaign supervisor: announce, expire, complete and export each campaign exactly once.

Exactly once: the export's file name is recorded in the store first (the
intent); the file is written to a temp name and renamed; then the campaign is
marked exported. After a crash, an intent whose file exists is only marked,
an intent whose file is missing is written again: never zero, never two.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import anyio

from aimport import faults, logs, store
from aimport.campaigns import model
from aimport.campaigns.exporter import safe_name, write_export
from aimport.campaigns.model import ACTIVE, COMPLETE, EXPIRED
from aimport.layout import history_stamp

Event = tuple[str, dict[str, Any]]


def tick(system_db: Path, export_dir: Path) -> list[Event]:
    """One supervisor pass; returns the audit events to record."""
    events: list[Event] = []
    conn = store.open_store(system_db)
    try:
        model.ensure_schema(conn)
        for c in model.all_campaigns(conn, "announced = 0"):
            kind = "campaign_started" if c.status == ACTIVE else "campaign_invalid"
            events.append((kind, {"campaign": c.name, "status": c.status, "reason": c.invalid_reason,
                                  **model.counts(conn, c.id)}))
            conn.execute("UPDATE campaigns SET announced = 1 WHERE id = ?", (c.id,))
        today = dt.date.today().isoformat()
        for c in model.all_campaigns(conn, "status = ? AND end_date IS NOT NULL AND end_date < ?", (ACTIVE, today)):
            model.set_status(conn, c.id, EXPIRED, f"end date {c.end_date} passed")
        marks = ",".join("?" * len(COMPLETE))
        for c in model.all_campaigns(conn, f"status IN ({marks}) AND completion_announced = 0", COMPLETE):
            events.append(("campaign_completed", {"campaign": c.name, "status": c.status,
                                                  "reason": c.completion_reason, **model.counts(conn, c.id)}))
            conn.execute("UPDATE campaigns SET completion_announced = 1 WHERE id = ?", (c.id,))
        for c in model.all_campaigns(conn, f"status IN ({marks}) AND exported_at IS NULL", COMPLETE):
            events.append(export_once(conn, c, export_dir))
    finally:
        conn.close()
    return events


def export_once(conn: sqlite3.Connection, c: model.Campaign, export_dir: Path) -> Event:
    name = c.export_name
    if name is None:
        name = f"{history_stamp(dt.datetime.now())}_{safe_name(c.name)}.xlsx"
        n = 2
        while (export_dir / name).exists():
            name = f"{history_stamp(dt.datetime.now())}_{safe_name(c.name)} ({n}).xlsx"
            n += 1
        conn.execute("UPDATE campaigns SET export_name = ? WHERE id = ?", (name, c.id))
    out = export_dir / name
    recovered = out.exists()
    rows = 0
    if not recovered:
        export_dir.mkdir(parents=True, exist_ok=True)
        rows = write_export(conn, c, out, before_rename=lambda: faults.point("mid_export"))
        faults.point("after_export_rename")
    conn.execute("UPDATE campaigns SET exported_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?", (c.id,))
    return ("campaign_exported", {"campaign": c.name, "file": name, "rows": rows, "recovered": recovered})


async def run_supervisor(svc: Any) -> None:
    """Long-running: a pass every ``supervise_s`` seconds; starts the demo dialer when asked."""
    settings = svc.settings
    log = logs.get()
    async with anyio.create_task_group() as tg:
        if settings.demo_dialer:
            from aimport.campaigns.dialer import run_dialer

            tg.start_soon(run_dialer, svc)
        while True:
            try:
                events = await anyio.to_thread.run_sync(tick, settings.system_db, svc.ctx.layout.export_dir)
            except (sqlite3.Error, OSError) as exc:
                log.error(f"campaign supervisor: {exc}; retrying")
                await svc.ctx.audit.event("supervisor_failed", None, error=str(exc))
                events = []
            for kind, detail in events:
                await svc.ctx.audit.event(kind, None, **detail)
                svc.ctx.notify(kind, detail)
                log.info(f"{kind.replace('_', ' ')}: {detail.get('campaign')}"
                         + (f" -> Export/{detail['file']}" if kind == "campaign_exported" else ""))
            await anyio.sleep(settings.supervise_s)
