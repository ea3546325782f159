"""The importer of item types (every folder but OutboundCampaign): stage every sheet, then apply them all.

Staging parses and checks without the store's write lock (imports of different types parse side by
side); then every staged sheet and the ledger row go into the store in one transaction.
"""

from __future__ import annotations

import time

from aimport.errors import ErrorCode
from aimport.importing import scratch
from aimport.importing.apply import Applier
from aimport.importing.headers import HeaderError
from aimport.importing.ledger import commit_outcome
from aimport.importing.outcome import (
    FileFailure,
    ImportOutcome,
    ImportRequest,
    PhaseTimes,
    Progress,
    SheetTotals,
    Status,
    Totals,
)
from aimport.importing.rejectedscratch import RejectedRows
from aimport.importing.rejectedwrite import write_rejected
from aimport.importing.sheets import plan_sheets
from aimport.importing.stage import Stage, StagedSheet
from aimport.importing.worklog import ImportLog
from aimport.readers.choose import open_workbook
from aimport.store import stagedrows, turn
from aimport.store.db import Db, with_retries
from aimport.store.workerstore import import_store

__all__ = ["import_items"]

FAILURE_TEXT = {
    ErrorCode.NO_ROWS: "the file has a header row but no data rows: nothing to import",
    ErrorCode.ALL_ROWS_REJECTED: "every row was rejected (see the REJECT lines): nothing was applied",
}


def import_items(req: ImportRequest, log: ImportLog, digest: str, progress: Progress | None) -> ImportOutcome:
    """Import a file of item types (one sheet, or the known sheets of a Configuration workbook); a partial
    import then writes its rejected rows for fixing (:mod:`aimport.importing.rejectedwrite`), a check does not."""
    if req.dry_run:
        return _import_items(req, log, digest, progress)
    rejected = RejectedRows(scratch.path(req.work_dir, req.import_key, "rejected"))
    log.sink = rejected
    try:
        outcome = _import_items(req, log, digest, progress)
        log.sink = None
        if outcome.status == Status.PARTIAL:  # committed: writing the rows never changes the outcome
            write_rejected(req, log, rejected, progress)
        return outcome
    finally:
        log.sink = None
        rejected.close()


def _import_items(req: ImportRequest, log: ImportLog, digest: str, progress: Progress | None) -> ImportOutcome:
    if req.import_type == "Configuration" and req.path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise FileFailure(ErrorCode.UNSUPPORTED_FORMAT, "a Configuration import must be an Excel workbook (.xlsx "
                          "or .xlsm)")
    wb = open_workbook(req.path, req.max_unzipped_bytes, req.text_fallback_encoding)
    for w in wb.warnings:
        log.warning(w)
    for note in wb.infos:  # sheets passed over that hold no rows (a macro sheet, a chart sheet)
        log.info(note)
    stage = Stage(scratch.path(req.work_dir, req.import_key, "stage"), helper=req.stage_helper)
    sheet_errors: list[ErrorCode] = []
    t0 = time.monotonic()
    try:
        staged: list[StagedSheet] = []
        for t, sheet_name in plan_sheets(req.import_type, wb, log):
            cb = (lambda n, s=sheet_name: progress(f"reading {s}", n)) if progress else None
            try:
                staged.append(stage.stage_sheet(t, wb.sheet(sheet_name), log, cb, req.hidden_rows))
            except HeaderError as exc:
                if req.import_type != "Configuration":
                    raise
                log.error(f"sheet {sheet_name!r} skipped: {exc.message}")
                sheet_errors.append(exc.code)
        # the worker's store connection, kept for its next import (SQLite: the WAL checkpoint runs after this
        # import, in a thread, while the service archives)
        t1 = time.monotonic()
        with import_store(req.store_address) as db:
            stagedrows.attach_stage(db, stage.path)
            outcome = with_retries(db, lambda: _apply_all(db, req, log, digest, stage, staged, sheet_errors, progress))
        outcome.phases = PhaseTimes(round((t1 - t0) * 1000), round((time.monotonic() - t1) * 1000),
                                    *(outcome.phases.turn_ms() if outcome.phases else ()))
        return outcome
    finally:
        stage.close()
        wb.close()


def _apply_all(db: Db, req: ImportRequest, log: ImportLog, digest: str, stage: Stage,
               staged: list[StagedSheet], sheet_errors: list[ErrorCode], progress: Progress | None) -> ImportOutcome:
    """Stage 2, in one transaction: the rows created set-based are copied in first; then, with the write turn
    of the tables the sheets write (:func:`aimport.store.turn.take`), every staged sheet, the ledger row, COMMIT.

    Run again from the start when the database gives the transaction up (a deadlock or serialization
    failure with another writer); the work log keeps only the last run's rejections.
    """
    log.restart_mark()
    applier = Applier(db, log, by=req.import_key, logon_user=req.actor)  # the logon user cannot be cut off
    wide = turn.take(db, turn.EVERY) if turn.wide() else None  # scripts/bench only: the turn before issue 27
    applier.prepare(stage, staged)  # before the turn (PostgreSQL: COPY into temporary tables)
    held = wide or turn.take(db, turn.keys_for(s.item for s in staged))
    results: list[SheetTotals] = []
    for s in staged:
        cb = (lambda n, s=s: progress(f"storing {s.sheet}", n)) if progress else None
        results.append(applier.apply(stage, s, cb))
    outcome = _outcome(results, sheet_errors, digest)
    outcome.result_fields.update(log.tallies)
    if outcome.error_code in FAILURE_TEXT:
        log.error(FAILURE_TEXT[outcome.error_code])
    commit_outcome(db, req, outcome)
    outcome.phases = PhaseTimes(0, 0, round(held.waited_s * 1000), round(held.hold_s() * 1000))
    return outcome


def _outcome(sheets: list[SheetTotals], sheet_errors: list[ErrorCode], digest: str) -> ImportOutcome:
    totals = sum((s.totals for s in sheets), Totals())
    if totals.rows == 0 and not sheet_errors:
        return ImportOutcome(Status.FAILED, ErrorCode.NO_ROWS, digest, totals, sheets)
    if totals.rows - totals.rejected <= 0:
        code = sheet_errors[0] if sheet_errors and totals.rows == 0 else ErrorCode.ALL_ROWS_REJECTED
        return ImportOutcome(Status.FAILED, code, digest, totals, sheets)
    if totals.rejected or sheet_errors:
        code = ErrorCode.ROWS_REJECTED if totals.rejected else sheet_errors[0]
        return ImportOutcome(Status.PARTIAL, code, digest, totals, sheets)
    return ImportOutcome(Status.SUCCEEDED, None, digest, totals, sheets)
