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

Several instances on one PostgreSQL store: a pass claims each campaign before announcing or exporting
it and holds the claim (a session advisory lock, :func:`aimport.store.calls.claim_campaign`) through
every step above until the events are acknowledged. Other instances skip a claimed campaign; when the
claiming instance dies its connection ends, the database drops the claim, and the next pass of another
instance resumes from the state the store holds, so the export is still written once. On SQLite one
instance owns the store and a claim is always granted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from aimport import faults
from aimport.atomicfile import put_in_place, temp_path
from aimport.campaigns import model
from aimport.campaigns.exportfile import export_folder_problem, safe_name, write_export
from aimport.campaigns.model import ACTIVE, EXPIRED, HANDLED, INVALID, PASSIVE
from aimport.history import history_stamp
from aimport.store import calls, customers
from aimport.store import campaigns as stored
from aimport.store.audit import Audit
from aimport.store.db import Db, StoreAddress
from aimport.store.schema import open_store

logger = logging.getLogger(__name__)

__all__ = ["Ack", "CampaignEvent", "SupervisorPass", "SupervisorSetup", "acknowledge", "advance", "export_once",
           "run_supervisor", "supervise_once", "tick"]


@dataclass(frozen=True)
class Ack:
    """What the store notes once an event is in the audit trail."""

    what: Literal["announced", "completion_announced", "exported"]
    campaign_id: int


@dataclass
class CampaignEvent:
    kind: str
    detail: dict[str, Any]
    ack: Ack | None = None  # noted in the store after the audit write (:meth:`SupervisorPass.acknowledge`)


def advance(db: Db) -> None:
    """Status changes nobody records: StartDate reached, EndDate passed, nobody left to call."""
    for c in stored.running(db):
        if model.ended(c):
            stored.set_status(db, c.id, EXPIRED, f"end date {c.end_date} passed", expect=c.status)
        elif c.status == PASSIVE and c.invalid_reason is None and not model.not_started(c):
            stored.set_status(db, c.id, ACTIVE, expect=PASSIVE)
        elif c.status == ACTIVE and not customers.anyone_left(db, c.id):
            stored.set_status(db, c.id, HANDLED, "every customer handled", expect=ACTIVE)


def note(db: Db, acks: list[Ack]) -> None:
    """Note in the store that these events are recorded (each its own statement: one failing loses no other)."""
    for ack in acks:
        if ack.what == "announced":
            stored.mark_announced(db, ack.campaign_id)
        elif ack.what == "completion_announced":
            stored.mark_completion_announced(db, ack.campaign_id)
        else:
            calls.mark_exported(db, ack.campaign_id)


class SupervisorPass:
    """One supervisor pass on its own store connection.

    Before announcing or exporting a campaign the pass claims it (:func:`aimport.store.calls.claim_campaign`)
    and keeps the claim until the pass's events are recorded and acknowledged (:meth:`acknowledge`) or the
    pass is closed: with several instances on one PostgreSQL store each campaign is announced and exported
    by one of them at a time, and the claim of an instance that dies goes with its connection.
    """

    def __init__(self, store_address: StoreAddress) -> None:
        self.db = open_store(store_address)
        self.claimed: set[int] = set()

    def run(self, export_dir: Path, failures: dict[int, str] | None = None) -> list[CampaignEvent]:
        """Advance statuses, claim what is to announce or export, and do it; returns the events to record."""
        db, failures = self.db, {} if failures is None else failures
        advance(db)
        started, completed = stored.to_announce(db)
        wanted = {c.id for c in (*started, *completed, *stored.to_export(db))}
        self.claimed |= {cid for cid in sorted(wanted - self.claimed) if calls.claim_campaign(db, cid)}
        if not self.claimed:
            return []
        started, completed = stored.to_announce(db)  # again, under the claims: another instance may have done them
        events = []
        for c in started:
            if c.id in self.claimed:
                kind = "campaign_invalid" if c.status == INVALID else "campaign_started"
                detail = {"campaign": c.name, "status": c.status, "reason": c.invalid_reason, **_counts(db, c.id)}
                events.append(CampaignEvent(kind, detail, Ack("announced", c.id)))
        for c in completed:
            if c.id in self.claimed:
                detail = {"campaign": c.name, "status": c.status, "reason": c.completion_reason, **_counts(db, c.id)}
                events.append(CampaignEvent("campaign_completed", detail, Ack("completion_announced", c.id)))
        for c in stored.to_export(db):
            if c.id not in self.claimed:
                continue
            try:
                events.append(export_once(db, c, export_dir))
                failures.pop(c.id, None)
            except Exception as exc:  # noqa: BLE001 - one campaign's export must not stop the others
                text = f"{type(exc).__name__}: {exc}"
                if failures.get(c.id) != text:  # report each distinct failure once, retry every pass
                    failures[c.id] = text
                    events.append(CampaignEvent("campaign_export_failed", {"campaign": c.name, "error": text}))
        return events

    def acknowledge(self, acks: list[Ack]) -> None:
        note(self.db, acks)

    def close(self) -> None:
        """Release the claims (a broken connection has released them already) and close the connection."""
        try:
            for cid in sorted(self.claimed):
                calls.release_campaign(self.db, cid)
        except Exception:  # noqa: BLE001 - the claims end with the connection anyway
            pass
        finally:
            self.claimed.clear()
            self.db.close()

    def __enter__(self) -> SupervisorPass:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _counts(db: Db, campaign_id: int) -> dict[str, int]:
    n = stored.counts(db, campaign_id)
    return {"customers": n.customers, "handled": n.handled, "calls": n.calls}


def tick(store_address: StoreAddress, export_dir: Path, failures: dict[int, str] | None = None) -> list[CampaignEvent]:
    """One supervisor pass on its own connection, closed at the end (claims included); returns the audit events
    to record, then :func:`acknowledge` their acks. The service keeps the claims until then (:func:`supervise_once`)."""
    with SupervisorPass(store_address) as one:
        return one.run(export_dir, failures)


def acknowledge(store_address: StoreAddress, acks: list[Ack]) -> None:
    with open_store(store_address) as db:
        note(db, acks)


def export_once(db: Db, c: model.Campaign, export_dir: Path) -> CampaignEvent:
    """Export a claimed complete campaign, resuming from whatever state a crash left (see the module's text)."""
    resumed = c.export_name is not None
    name = c.export_name
    if name is None:
        stamp, base = history_stamp(dt.datetime.now()), safe_name(c.name)
        name, n = f"{stamp}_{base}.xlsx", 2
        while (export_dir / name).exists() or temp_path(export_dir / name).exists():
            name, n = f"{stamp}_{base} ({n}).xlsx", n + 1
        calls.plan_export(db, c.id, name, unit_of(export_dir))
    else:
        export_dir = planned_folder(export_dir, c.export_unit)
    out = export_dir / name
    tmp = temp_path(out)
    warning = None
    if out.exists():
        how = "found"  # renamed before a crash; only the announcement was missing
    elif c.export_ready and tmp.exists():
        how = "renamed"
        put_in_place(tmp, out)  # (the temp file was flushed before export_ready was set)
    elif c.export_ready:
        how = "missing"
        warning = (f"Export/{name} was completed before a restart and is no longer there (taken by another "
                "program?); it is not written twice: `aimport campaign export` writes a copy")
    else:
        how = "written"
        export_dir.mkdir(parents=True, exist_ok=True)

        def ready() -> None:  # the temp file is on disk already (atomicfile.finish)
            calls.set_export_ready(db, c.id, True)
            faults.point("mid_export")

        try:
            write_export(db, c, out, before_rename=ready)
        except BaseException:  # still running, so the rename did not happen (and the temp file is gone)
            calls.set_export_ready(db, c.id, False)
            raise
        faults.point("after_export_rename")
    detail = {"campaign": c.name, "file": name, "rows": stored.counts(db, c.id).customers,
              "recovered": resumed, "how": how}
    if warning:
        detail["warning"] = warning
    return CampaignEvent("campaign_exported", detail, Ack("exported", c.id))


def unit_of(export_dir: Path) -> str:
    """``SERVER_UNIT`` of ``ROOT/SERVER_UNIT/Automatic/Export``."""
    return export_dir.parent.parent.name


def planned_folder(export_dir: Path, unit: str | None) -> Path:
    """The Export/ folder a planned export was meant for: this unit's, or another unit's on the same share
    (an instance of that unit was stopped mid-export). A stored name that is not one folder name is ignored."""
    if not unit or unit == unit_of(export_dir) or unit in (".", "..") or "/" in unit or "\\" in unit or "\0" in unit:
        return export_dir
    other = export_dir.parent.parent.parent / unit / export_dir.parent.name / export_dir.name
    return other if export_folder_problem(other) is None else export_dir


def _ignore(detail: dict[str, Any]) -> None:
    pass


@dataclass(frozen=True)
class SupervisorSetup:
    """What the campaign supervisor uses of the service."""

    store_address: StoreAddress
    export_dir: Path
    audit: Audit  # every event is recorded here before the store notes it as announced
    every_s: float = 10.0  # a pass every so many seconds (--supervise-s)
    demo_rate: float | None = None  # SIMULATION: the demo dialer's calls per second; None: no demo dialer
    exported: Callable[[dict[str, Any]], None] = _ignore  # told of each campaign_exported event (metrics)


async def supervise_once(setup: SupervisorSetup, failures: dict[int, str]) -> None:
    """A pass: its events are recorded in the audit trail, then acknowledged in the store, then its claims end."""
    one = await anyio.to_thread.run_sync(SupervisorPass, setup.store_address)
    try:
        events = await anyio.to_thread.run_sync(one.run, setup.export_dir, failures)
        acks: list[Ack] = []
        try:
            for e in events:
                await setup.audit.event(e.kind, None, **e.detail)
                if e.ack:
                    acks.append(e.ack)
                if e.kind == "campaign_exported":
                    setup.exported(e.detail)
                if e.kind == "campaign_export_failed":
                    logger.error(f"campaign {e.detail['campaign']!r}: export failed ({e.detail['error']}); retrying")
                else:
                    logger.info(f"{e.kind.replace('_', ' ')}: {e.detail.get('campaign')}"
                             + (f" -> Export/{e.detail['file']}" if e.kind == "campaign_exported" else ""))
                if e.detail.get("warning"):
                    logger.warning(f"campaign {e.detail['campaign']!r}: {e.detail['warning']}")
        finally:
            if acks:
                with anyio.CancelScope(shield=True):  # what is recorded is noted, also when the service stops
                    await anyio.to_thread.run_sync(one.acknowledge, acks)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(one.close)


async def run_supervisor(setup: SupervisorSetup) -> None:
    """Long-running: a pass every ``setup.every_s`` seconds; starts the demo dialer when asked."""
    failures: dict[int, str] = {}
    async with anyio.create_task_group() as tg:
        if setup.demo_rate is not None:
            from aimport.campaigns.dialer import run_dialer

            tg.start_soon(run_dialer, setup.store_address, setup.demo_rate)
        while True:
            try:
                await supervise_once(setup, failures)
            except Exception as exc:  # noqa: BLE001 - the supervisor retries; it never stops the service
                logger.error(f"campaign supervisor: {type(exc).__name__}: {exc}; retrying")
                await setup.audit.try_event("supervisor_failed", None, error=str(exc))  # it may be the problem
            await anyio.sleep(setup.every_s)
