"""The campaign supervisor: start, expire, complete, announce and export each campaign exactly once.

Exactly-once export, as states in the store:

1. ``export_name`` set (the intent): the file name is fixed before anything is written;
2. the export is written to a hidden temp name, synced, then ``export_ready`` is set;
3. the temp file is renamed to the final name (and the folder synced);
4. ``exported_at`` is set once the ``campaign_exported`` audit event is recorded.

After a crash: final file present -> only announced; ``export_ready`` and the temp file present ->
renamed; ``export_ready`` and neither present -> the rename happened and another program already
took the file from Export/ (a warning, not a second file); intent only -> written again.
Audit events are recorded before the store notes them as announced (at least once; a crash between
the two repeats an event, it never loses one).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from aimport import faults, servicelog
from aimport.atomicfile import sync, temp_path
from aimport.campaigns import model
from aimport.campaigns.exportfile import safe_name, write_export
from aimport.campaigns.model import ACTIVE, COMPLETE, EXPIRED, HANDLED, INVALID, PASSIVE
from aimport.layout import history_stamp
from aimport.store import system as store
from aimport.store.audit import Audit

NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


@dataclass
class Event:
    kind: str
    detail: dict[str, Any]
    ack: tuple[str, tuple[Any, ...]] | None = None  # SQL noting, after the audit write, that it was announced


def advance(conn: sqlite3.Connection) -> None:
    """Status changes nobody records: StartDate reached, EndDate passed, nobody left to call."""
    for c in model.all_campaigns(conn, "status IN (?, ?)", (PASSIVE, ACTIVE)):
        if model.ended(c):
            model.set_status(conn, c.id, EXPIRED, f"end date {c.end_date} passed", expect=c.status)
        elif c.status == PASSIVE and c.invalid_reason is None and not model.not_started(c):
            model.set_status(conn, c.id, ACTIVE, expect=PASSIVE)
        elif c.status == ACTIVE and conn.execute(
                "SELECT 1 FROM customers WHERE campaign_id = ? AND result IS NULL LIMIT 1", (c.id,)).fetchone() is None:
            model.set_status(conn, c.id, HANDLED, "every customer handled", expect=ACTIVE)


def announcements(conn: sqlite3.Connection) -> list[Event]:
    events = []
    for c in model.all_campaigns(conn, "announced = 0 AND (started_at IS NOT NULL OR status = ?)", (INVALID,)):
        kind = "campaign_invalid" if c.status == INVALID else "campaign_started"
        detail = {"campaign": c.name, "status": c.status, "reason": c.invalid_reason, **model.counts(conn, c.id)}
        events.append(Event(kind, detail, ("UPDATE campaigns SET announced = 1 WHERE id = ?", (c.id,))))
    marks = ",".join("?" * len(COMPLETE))
    for c in model.all_campaigns(conn, f"status IN ({marks}) AND completion_announced = 0", COMPLETE):
        detail = {"campaign": c.name, "status": c.status, "reason": c.completion_reason, **model.counts(conn, c.id)}
        events.append(Event("campaign_completed", detail,
                            ("UPDATE campaigns SET completion_announced = 1 WHERE id = ?", (c.id,))))
    return events


def tick(store_address: Path, export_dir: Path, failures: dict[int, str] | None = None) -> list[Event]:
    """One supervisor pass; returns the audit events to record (then :func:`acknowledge` their acks)."""
    failures = {} if failures is None else failures
    conn = store.open_store(store_address)
    try:
        model.ensure_schema(conn)
        advance(conn)
        events = announcements(conn)
        marks = ",".join("?" * len(COMPLETE))
        for c in model.all_campaigns(conn, f"status IN ({marks}) AND exported_at IS NULL", COMPLETE):
            try:
                events.append(export_once(conn, c, export_dir))
                failures.pop(c.id, None)
            except Exception as exc:  # noqa: BLE001 - one campaign's export must not stop the others
                text = f"{type(exc).__name__}: {exc}"
                if failures.get(c.id) != text:  # report each distinct failure once, retry every pass
                    failures[c.id] = text
                    events.append(Event("campaign_export_failed", {"campaign": c.name, "error": text}))
    finally:
        conn.close()
    return events


def acknowledge(store_address: Path, acks: list[tuple[str, tuple[Any, ...]]]) -> None:
    conn = store.connect(store_address)
    try:
        for sql, args in acks:
            conn.execute(sql, args)
    finally:
        conn.close()


def export_once(conn: sqlite3.Connection, c: model.Campaign, export_dir: Path) -> Event:
    resumed = c.export_name is not None
    name = c.export_name
    if name is None:
        stamp, base = history_stamp(dt.datetime.now()), safe_name(c.name)
        name, n = f"{stamp}_{base}.xlsx", 2
        while (export_dir / name).exists() or temp_path(export_dir / name).exists():
            name, n = f"{stamp}_{base} ({n}).xlsx", n + 1
        conn.execute("UPDATE campaigns SET export_name = ? WHERE id = ?", (name, c.id))
    out = export_dir / name
    tmp = temp_path(out)
    note = None
    if out.exists():
        how = "found"  # renamed before a crash; only the announcement was missing
    elif c.export_ready and tmp.exists():
        how = "renamed"
        os.replace(tmp, out)
        sync(export_dir, directory=True)
    elif c.export_ready:
        how = "missing"
        note = (f"Export/{name} was completed before a restart and is no longer there (taken by another "
                "program?); it is not written twice: `aimport campaign export` writes a copy")
    else:
        how = "written"
        export_dir.mkdir(parents=True, exist_ok=True)

        def ready() -> None:  # the temp file is on disk already (atomicfile.finish)
            conn.execute("UPDATE campaigns SET export_ready = 1 WHERE id = ?", (c.id,))
            faults.point("mid_export")

        try:
            write_export(conn, c, out, before_rename=ready)
        except BaseException:  # still running, so the rename did not happen (and the temp file is gone)
            conn.execute("UPDATE campaigns SET export_ready = 0 WHERE id = ?", (c.id,))
            raise
        sync(export_dir, directory=True)
        faults.point("after_export_rename")
    detail = {"campaign": c.name, "file": name, "rows": model.counts(conn, c.id)["customers"],
              "recovered": resumed, "how": how}
    if note:
        detail["warning"] = note
    return Event("campaign_exported", detail, (f"UPDATE campaigns SET exported_at = {NOW} WHERE id = ?", (c.id,)))


def _ignore(detail: dict[str, Any]) -> None:
    pass


@dataclass(frozen=True)
class SupervisorSetup:
    """What the campaign supervisor uses of the service."""

    store_address: Path
    export_dir: Path
    audit: Audit  # every event is recorded here before the store notes it as announced
    every_s: float = 10.0  # a pass every so many seconds (--supervise-s)
    demo_rate: float | None = None  # SIMULATION: the demo dialer's calls per second; None: no demo dialer
    exported: Callable[[dict[str, Any]], None] = _ignore  # told of each campaign_exported event (metrics)


async def supervise_once(setup: SupervisorSetup, failures: dict[int, str]) -> None:
    log = servicelog.get()
    events = await anyio.to_thread.run_sync(tick, setup.store_address, setup.export_dir, failures)
    acks: list[tuple[str, tuple[Any, ...]]] = []
    try:
        for e in events:
            await setup.audit.event(e.kind, None, **e.detail)
            if e.ack:
                acks.append(e.ack)
            if e.kind == "campaign_exported":
                setup.exported(e.detail)
            if e.kind == "campaign_export_failed":
                log.error(f"campaign {e.detail['campaign']!r}: export failed ({e.detail['error']}); retrying")
            else:
                log.info(f"{e.kind.replace('_', ' ')}: {e.detail.get('campaign')}"
                         + (f" -> Export/{e.detail['file']}" if e.kind == "campaign_exported" else ""))
            if e.detail.get("warning"):
                log.warning(f"campaign {e.detail['campaign']!r}: {e.detail['warning']}")
    finally:
        if acks:
            await anyio.to_thread.run_sync(acknowledge, setup.store_address, acks)


async def run_supervisor(setup: SupervisorSetup) -> None:
    """Long-running: a pass every ``setup.every_s`` seconds; starts the demo dialer when asked."""
    log = servicelog.get()
    failures: dict[int, str] = {}
    async with anyio.create_task_group() as tg:
        if setup.demo_rate is not None:
            from aimport.campaigns.dialer import run_dialer

            tg.start_soon(run_dialer, setup.store_address, setup.demo_rate)
        while True:
            try:
                await supervise_once(setup, failures)
            except Exception as exc:  # noqa: BLE001 - the supervisor retries; it never stops the service
                log.error(f"campaign supervisor: {type(exc).__name__}: {exc}; retrying")
                try:
                    await setup.audit.event("supervisor_failed", None, error=str(exc))
                except Exception:  # noqa: BLE001 - the audit trail itself may be the problem
                    pass
            await anyio.sleep(setup.every_s)
