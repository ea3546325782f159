"""One import from file to committed transaction; runs in a worker process.

The importer for the file's import type (:data:`IMPORTERS`, the generic item engine otherwise) reads,
checks and applies it; every way it can fail ends here as an :class:`ImportOutcome` with an error code.
"""

from __future__ import annotations

import sqlite3

from aimport import faults
from aimport.campaigns.importer import import_campaign
from aimport.errors import CodedError, ErrorCode, cause_of, environment_trouble, state_code
from aimport.importing import filestate
from aimport.importing.items import import_items
from aimport.importing.ledger import record_failure, verify_unchanged
from aimport.importing.outcome import (
    FileChanged,
    ImportFunction,
    ImportOutcome,
    ImportRequest,
    PhaseTimes,
    Progress,
    Status,
)
from aimport.importing.stagehelper import HelperDied
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.dates import date_order
from aimport.itemtypes.values import phone_reading
from aimport.store.db import StoreUnavailable, retry_count
from aimport.store.schema import SchemaTooNew
from aimport.store.turn import TurnBusy

__all__ = ["IMPORTERS", "run_import"]

IMPORTERS: dict[str, ImportFunction] = {"OutboundCampaign": import_campaign}  # any other type: import_items


def run_import(req: ImportRequest, progress: Progress | None = None) -> ImportOutcome:
    """Import one file; never raises for bad input or a troubled disk (the outcome says what happened)."""
    try:
        log = ImportLog(req.log_path)
    except OSError as exc:  # the work log cannot be created: the state disk, never the file's fault
        return ImportOutcome(Status.FAILED, state_code(exc), "", log_path=req.log_path, error=str(exc))
    digest = ""
    retries_before = retry_count()
    try:
        given = req.sha256 if req.expect is not None else ""  # the service's hash belongs to its req.expect
        req.expect = req.expect or filestate.identity(req.path)  # the bytes hashed and read are these
        verify_unchanged(req)  # the file is still req.expect: a given hash is its hash
        digest = given or filestate.sha256_of(req.path)
        faults.oserror("work_dir")  # tests: the state disk is full when the import starts writing
        faults.store_error("store")  # tests: the system store cannot be written
        log.info(f"{'checking' if req.dry_run else 'importing'} {req.path.name} as {req.import_type} "
                 f"(sha256 {digest[:12]}, {req.path.stat().st_size} bytes) for {req.actor}")
        with date_order(req.date_order), phone_reading(req.phone_region) as notes:
            outcome = IMPORTERS.get(req.import_type, import_items)(req, log, digest, progress)
        if notes.national_phones:
            log.warning(f"{notes.national_phones} national phone number(s) were stored as their digits (not in E.164, "
                        "so they match only numbers written the same way): set phone_region (for example FI) to "
                        "store them as +<country code><number>")
    except FileChanged as exc:
        outcome = _changed(log, digest, str(exc))
    except CodedError as exc:  # ReadError, HeaderError, FileFailure
        change = _change(req)  # a file cut off mid-write reads as broken: that is not its final content
        if change:
            outcome = _changed(log, digest, change)
        else:
            log.error(exc.message)
            outcome = _failed(exc.code, digest)
            record_failure(req, outcome)
    except MemoryError:
        log.error("the file needs more memory than is available")
        outcome = _failed(ErrorCode.TOO_LARGE, digest)
    except HelperDied as exc:  # a process of this import died: what a worker killed the same way ends with
        log.error(f"{exc}; nothing was applied")
        outcome = _failed(ErrorCode.WORKER_CRASHED, digest, str(exc))
    except StoreUnavailable as exc:  # retried by the service when the driver says it is the environment
        log.error(str(exc))
        outcome = _failed(ErrorCode.STORE_UNAVAILABLE, digest, str(exc))
        outcome.environmental = exc.transient
        if isinstance(exc, TurnBusy):  # the wait counts in aimport_store_turn_wait_seconds
            outcome.phases = PhaseTimes(0, 0, round(exc.waited_s * 1000))
    except sqlite3.OperationalError as exc:  # injected by tests before the store is opened (faults.store_error)
        log.error(f"the system store is not available: {exc}")
        outcome = _failed(ErrorCode.STORE_UNAVAILABLE, digest, str(exc))
        outcome.environmental = environment_trouble(exc)
    except SchemaTooNew as exc:
        log.error(str(exc))
        outcome = _failed(ErrorCode.STORE_UNAVAILABLE, digest, str(exc))
    except OSError as exc:
        if environment_trouble(exc):  # a full or read-only disk, an I/O error: not the file's fault (retried)
            log.error(f"the disk cannot be used now ({cause_of(exc).label}): {exc}")
            outcome = _failed(state_code(exc), digest, str(exc))
        elif _change(req):
            outcome = _changed(log, digest, _change(req))
        else:
            log.error(f"the file cannot be read: {exc.strerror or exc}")
            outcome = _failed(ErrorCode.FILE_UNREADABLE, digest)
    except Exception as exc:  # noqa: BLE001 - bad input must never stop the service
        if _change(req):
            outcome = _changed(log, digest, _change(req))
        else:
            log.error(f"internal error: {type(exc).__name__}: {exc}")
            outcome = _failed(ErrorCode.INTERNAL_ERROR, digest)
    t = outcome.totals
    if t:
        log.info(f"finished: {outcome.status}; rows {t.rows}, created {t.created}, updated {t.updated}, "
                 f"deleted {t.deleted}, unchanged {t.unchanged}, rejected {t.rejected}")
    else:
        log.info(f"finished: {outcome.status}")
    if req.log_path is None:
        outcome.log_text = log.text()
    try:
        log.close()
    except OSError as exc:  # the .log could not be written out: the state disk (what committed stands: its ledger)
        if outcome.status == Status.FAILED and not outcome.transient:
            outcome = _failed(state_code(exc), digest, str(exc))
    outcome.log_path = req.log_path
    outcome.store_retries = retry_count() - retries_before
    return outcome


def _failed(code: ErrorCode, digest: str, error: str = "") -> ImportOutcome:
    return ImportOutcome(Status.FAILED, code, digest, error=error)


def _change(req: ImportRequest) -> str:
    try:
        verify_unchanged(req)
    except FileChanged as exc:
        return str(exc)
    return ""


def _changed(log: ImportLog, digest: str, change: str) -> ImportOutcome:
    log.warning(f"the file changed while it was imported ({change}): everything was rolled back")
    return _failed(ErrorCode.FILE_CHANGED, digest, change)
