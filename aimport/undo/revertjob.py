"""``aimport revert ID`` as a recorded job: an audit row, one transaction with the ledger row, the ``.log`` and
``.result`` in the type's History/ (``yyyyMMdd_HHmmss_revert_of_<ID>_<file>``), ``reverted_by`` on the original.

The audit row is opened before the transaction and the revert is ledgered in it under ``<trail uuid>-<its id>``,
like an import: after a ``kill -9`` the next ``aimport revert ID`` reads the ledger and says whether the
interrupted revert was applied (then it only completes its record) or not (then it reverts now).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from aimport import faults
from aimport.errors import ErrorCode
from aimport.history import history_candidates, history_stamp
from aimport.importing.outcome import Totals
from aimport.importing.worklog import ImportLog
from aimport.service.archive import local_iso, write_side_files
from aimport.settings import Settings
from aimport.store import auditqueries, revertaudit, turn
from aimport.store import system as store
from aimport.store.audit import Audit, now_iso
from aimport.store.db import with_retries
from aimport.store.schema import open_store
from aimport.undo.revert import RevertResult, revert_import

__all__ = ["RevertDone", "RevertError", "run_revert"]


class RevertError(Exception):
    """The revert cannot start (no such import, still running, failed); one line for the user."""


@dataclass
class RevertDone:
    revert_id: int | None  # the revert's own import id (None: nothing was recorded)
    result: RevertResult
    history: Path | None = None  # the revert's .log/.result are this name + suffix
    interrupted: list[str] = field(default_factory=list)  # what became of reverts killed before they were recorded
    resumed: bool = False  # an interrupted revert had committed: it was only recorded now


def _totals(res: RevertResult) -> Totals:
    return Totals(rows=res.restored + res.removed + res.recreated, created=res.recreated, updated=res.restored,
                  deleted=res.removed)


async def run_revert(settings: Settings, import_id: int, force: bool = False, requested_by: str = "") -> RevertDone:
    """Revert import ``import_id`` and record it (``requested_by``: who asked, for the ``.log`` and the audit
    trail: the CLI's user, or the jobs view's ``loopback`` / ``token``); see the module's docstring."""
    path = settings.audit_db
    row, events = auditqueries.get_import(path, import_id)
    if row is None:
        raise RevertError(f"no import with id {import_id} in the audit trail")
    if row["status"] in ("queued", "in_process"):
        raise RevertError(f"import {import_id} is still {row['status']}: wait until it has finished")
    if row["status"] == "failed":
        raise RevertError(f"import {import_id} failed: nothing of it was applied, so there is nothing to revert")
    key = auditqueries.import_key_of(path, import_id)
    actor = settings.logon_user or "cli"
    async with Audit(path) as audit:
        uuid = await audit.uuid()
        done = RevertDone(None, RevertResult())
        for open_row in revertaudit.interrupted_reverts(path, import_id):
            note = await _resolve_interrupted(settings, audit, f"{uuid}-{open_row['id']}", open_row, import_id)
            done.interrupted.append(note[0])
            if note[1] is not None:
                return RevertDone(int(open_row["id"]), note[1], note[2], done.interrupted, resumed=True)
        started = dt.datetime.now().astimezone()
        t0 = time.monotonic()
        name = revertaudit.revert_name(import_id, row["file_name"])
        rid = await audit.start_import(row["import_type"], name, None, now_iso(), actor)
        rkey = f"{uuid}-{rid}"
        await audit.event("revert_started", rid, reverts=import_id, key=rkey, force=force,
                          requested_by=requested_by or None)
        log = ImportLog(None)
        log.info(f"reverting import {import_id} ({row['file_name']}, {row['import_type']}) as {actor}"
                 + (f", asked by {requested_by}" if requested_by else "") + (" with --force" if force else ""))
        res = await anyio.to_thread.run_sync(_apply, settings, key, rkey, force, row, name, log)
        _log_result(log, res, force)
        status, code = ("failed", ErrorCode.REVERT_REFUSED) if res.refusal else ("succeeded", None)
        history = await _record(settings, audit, rid, row["import_type"], name, started, status, code, res,
                                log.text(), import_id, events, t0)
        return RevertDone(rid, res, history, done.interrupted)


def _apply(settings: Settings, key: str, rkey: str, force: bool, row: dict[str, Any], name: str,
           log: ImportLog) -> RevertResult:
    """The revert's one transaction under the write turn (every table's), with its ledger row."""
    with open_store(settings.store_address) as db:
        def work() -> RevertResult:
            log.restart_mark()
            turn.take(db, turn.EVERY)
            res = revert_import(db, key, rkey, force, settings.logon_user, settings.revert_days)
            if res.refusal:
                db.rollback()
                return res
            store.ledger_put(db, rkey, "", row["import_type"], name, "succeeded", None,
                             {"totals": _totals(res).as_dict(), "sheets": [],
                              "result_fields": {**res.counts, "reverts": int(row["id"])}})
            faults.point("mid_transaction")
            db.commit()
            faults.point("after_commit")
            return res

        return with_retries(db, work)


def _log_result(log: ImportLog, res: RevertResult, force: bool) -> None:
    for c in res.conflicts:
        text = f"conflict: {c.item}: {c.field} was changed later by import {c.later}"
        (log.warning if force and not res.refusal else log.error)(text + (" (overwritten)" if force else ""))
    for note in res.notes:
        log.warning(note)
    if res.refusal:
        log.error(f"revert refused: {res.refusal}; nothing was changed")
    else:
        log.info(f"finished: restored {res.restored}, removed {res.removed}, recreated {res.recreated}")


async def _record(settings: Settings, audit: Audit, rid: int, import_type: str, name: str, started: dt.datetime,
                  status: str, code: ErrorCode | None, res: RevertResult, log_text: str, import_id: int,
                  events: list[dict[str, Any]], t0: float) -> Path:
    history_dir = settings.layout.history_dir(import_type)
    dest = history_dir / next(n for n in history_candidates(history_stamp(started), name)
                              if not (history_dir / f"{n}.log").exists() and not (history_dir / f"{n}.result").exists())
    duration = int((time.monotonic() - t0) * 1000)
    fields = {"status": status, "type": import_type, "file": name, **_totals(res).as_dict(),
              "started": local_iso(started), "finished": local_iso(dt.datetime.now()), "duration_ms": duration,
              "error_code": code, "import_id": rid, "actor": settings.logon_user or "cli", **res.counts,
              "reverts": import_id}
    history_dir.mkdir(parents=True, exist_ok=True)
    await anyio.to_thread.run_sync(write_side_files, dest, log_text, fields, [])
    await audit.set_history(rid, dest.name)
    await audit.finish_import(rid, status, code, "", _totals(res), duration)
    if status == "succeeded":
        await anyio.to_thread.run_sync(revertaudit.set_reverted_by, audit.path, import_id, rid)
        for e in events:  # the import reverted was itself a revert: what it undid is applied again
            if e["kind"] == "revert_started":
                undone = int(json.loads(e["detail"]).get("reverts", 0))
                if undone:
                    await anyio.to_thread.run_sync(revertaudit.set_reverted_by, audit.path, undone, None)
        await audit.event("reverted", import_id, by=rid, **res.counts)
    await audit.event("revert_finished", rid, status=status, reverts=import_id, **res.counts,
                      conflicts=len(res.conflicts), refusal=res.refusal or None)
    return dest


async def _resolve_interrupted(settings: Settings, audit: Audit, rkey: str, row: dict[str, Any],
                               import_id: int) -> tuple[str, RevertResult | None, Path | None]:
    """A revert killed before it was recorded: the ledger says whether it committed."""
    rid = int(row["id"])
    with open_store(settings.store_address) as db:
        ledger = store.ledger_get(db, rkey)
    started = dt.datetime.now().astimezone()
    if ledger is None:
        await audit.finish_import(rid, "failed", ErrorCode.WORKER_CRASHED, "", None, 0)
        await audit.event("recovered", rid, committed=False, reverts=import_id)
        return (f"revert {rid} of import {import_id} was interrupted before it committed: nothing of it was "
                "applied", None, None)
    counts = ledger["stats"].get("result_fields", {})
    res = RevertResult(int(counts.get("restored", 0)), int(counts.get("removed", 0)), int(counts.get("recreated", 0)))
    await audit.event("recovered", rid, committed=True, reverts=import_id)
    log = ImportLog(None)
    log.info(f"revert {rid} of import {import_id} was interrupted after it committed: it was applied once; "
             "its record is completed now")
    _, events = auditqueries.get_import(audit.path, import_id)
    history = await _record(settings, audit, rid, row["import_type"], row["file_name"], started, "succeeded", None,
                            res, log.text(), import_id, events, time.monotonic())
    return (f"revert {rid} of import {import_id} was applied before it was interrupted (committed once); its record "
            "is completed now", res, history)
