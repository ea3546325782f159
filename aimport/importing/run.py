"""One import from file to committed transaction; runs in a worker process.

Stage every sheet first (parsing runs without the store's write lock, so
imports of different types parse side by side), then apply all sheets and
record the outcome in the store's ledger in one transaction.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from aimport import faults
from aimport.importing import filestate
from aimport.store import system as store
from aimport.importing.apply import Applier, SheetStats
from aimport.importing.headers import HeaderError, find_header, sheet_hint
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import ItemType
from aimport.itemtypes.values import date_order
from aimport.readers.base import ReadError, Workbook, open_workbook
from aimport.importing.stage import Stage, StagedSheet
from aimport.importing.stagetable import Flat

FAILURE_TEXT = {
    "NO_ROWS": "the file has a header row but no data rows: nothing to import",
    "ALL_ROWS_REJECTED": "every row was rejected (see the REJECT lines): nothing was applied",
}
COUNTS = ("rows", "created", "updated", "deleted", "unchanged", "rejected")


@dataclass
class ImportRequest:
    path: Path
    import_type: str
    import_key: str  # ledger key, unique per import
    system_db: Path
    work_dir: Path
    actor: str
    dry_run: bool = False
    max_unzipped_bytes: int = 1 << 30
    campaign_template: str = "Template"
    log_path: Path | None = None
    date_order: str = "auto"  # settings.date_order: how text dates are read (values.date_order)
    text_fallback_encoding: str = "cp1252"  # settings.text_fallback_encoding ("none": refuse non-UTF-8 text)
    expect: filestate.FileIdentity | None = None  # the file as claimed: any change before COMMIT rolls back
    check_writers: bool = False  # a process holding the file open for writing counts as a change


@dataclass
class ImportOutcome:
    status: str  # succeeded | partial | failed
    error_code: str | None
    sha256: str
    totals: dict[str, int] = field(default_factory=dict)
    sheets: list[dict[str, Any]] = field(default_factory=list)
    log_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FileChanged(Exception):
    """The file changed while it was imported: roll back, nothing is ledgered (the service imports it again)."""


def verify_unchanged(req: ImportRequest) -> None:
    """Raise :class:`FileChanged` unless the file is still exactly the one whose bytes were hashed and read."""
    state = filestate.check(req.path, req.expect, req.check_writers)
    if state.reason:
        raise FileChanged(state.reason)


class FileFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plan_sheets(import_type: str, wb: Workbook, log: ImportLog) -> list[tuple[ItemType, str]]:
    """Which sheet holds which item type, in the order they must be applied.

    Hidden and very hidden sheets are never imported (``sheet_names()`` leaves them out).
    """
    names = wb.sheet_names()
    if not names:
        if wb.hidden:
            raise FileFailure("NO_ROWS", f"every sheet of the workbook is hidden ({_quoted(wb.hidden)}): "
                              "hidden sheets are never imported; unhide the sheet that holds the data")
        raise FileFailure("NO_ROWS", "the workbook has no sheets")
    if import_type == "Configuration":
        for name in wb.hidden:
            hidden_type = CATALOG.config_sheet(name)
            if hidden_type is not None:
                log.warning(f"sheet {name!r} is hidden and was skipped: hidden sheets are never imported "
                            f"(unhide it to import its {hidden_type.label}s)")
            else:
                log.info(f"hidden sheet {name!r} skipped")
        found: dict[str, tuple[ItemType, str]] = {}
        for name in names:
            t = CATALOG.config_sheet(name)
            if t is None:
                other = CATALOG.not_configuration(name)
                hint = (f"; {other.label}s import through the {other.folder} folder" if other
                        else sheet_hint(None, wb.sheet(name).rows()))  # a Skills file dropped here says so
                log.warning(f"sheet {name!r} is not a configuration sheet and was skipped "
                            f"(known: {', '.join(x.sheet or '' for x in CATALOG.config_types())}){hint}")
            elif t.key in found:
                log.warning(f"sheet {name!r} was skipped: sheet {found[t.key][1]!r} already holds the {t.sheet}")
            else:
                found[t.key] = (t, name)
        if not found:
            raise FileFailure("NO_KNOWN_SHEET", "the workbook has no known configuration sheet: expected one of "
                              + ", ".join(x.sheet or "" for x in CATALOG.config_types()))
        return [found[t.key] for t in CATALOG.config_types() if t.key in found]
    t = CATALOG.for_folder(import_type)
    if t is None:
        raise FileFailure("NOT_SUPPORTED_YET", f"import type {import_type} is not supported yet")
    return [(t, _pick_sheet(t, wb, log))]


def _pick_sheet(t: ItemType, wb: Workbook, log: ImportLog) -> str:
    """The first visible sheet whose header is a header of ``t`` (one sheet per single-type file)."""
    names = wb.sheet_names()
    taken, passed, first_error = names[0], [f"{n!r} (hidden)" for n in wb.hidden], None
    if len(names) > 1:
        for name in names:
            try:
                find_header(t, Flat(wb.sheet(name).iter_blocks()))
            except HeaderError as exc:
                if exc.code == "NO_HEADER":  # not this type's sheet (a lookup list, notes, a chart's data)
                    passed.append(f"{name!r} (no {t.label} header)")
                    first_error = first_error or exc
                    continue
            taken = name
            break
        else:
            log.info(f"no visible sheet has a {t.label} header; sheets passed over: {', '.join(passed)}")
            raise first_error or HeaderError("NO_HEADER", f"no sheet has a {t.label} header")
        passed += [f"{n!r} (not read: one sheet is imported per file)" for n in names[names.index(taken) + 1:]]
    if passed:
        log.info(f"sheet {taken!r} taken as the {t.label} sheet; sheets passed over: {', '.join(passed)}")
    return taken


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def run_import(req: ImportRequest, progress: Callable[[str, int], None] | None = None) -> ImportOutcome:
    """Import one file; never raises for bad input (the outcome says what happened)."""
    os.environ.setdefault("AIMPORT_WORKER", "1")
    log = ImportLog(req.log_path)
    digest = ""
    try:
        req.expect = req.expect or filestate.identity(req.path)  # the bytes hashed and read are these
        verify_unchanged(req)
        digest = sha256_of(req.path)
        faults.oserror("work_dir")  # tests: the state disk is full when the import starts writing
        faults.store_error("store")  # tests: the system store cannot be written
        log.info(f"{'checking' if req.dry_run else 'importing'} {req.path.name} as {req.import_type} "
                 f"(sha256 {digest[:12]}, {req.path.stat().st_size} bytes) for {req.actor}")
        with date_order(req.date_order):
            if req.import_type == "OutboundCampaign":
                from aimport.campaigns.importer import import_campaign  # imports this module: import here

                outcome = import_campaign(req, log, digest)
            else:
                outcome = _import_items(req, log, digest, progress)
    except FileChanged as exc:
        outcome = _changed(log, digest, str(exc))
    except (ReadError, FileFailure, HeaderError) as exc:
        change = _change(req)  # a file cut off mid-write reads as broken: that is not its final content
        if change:
            outcome = _changed(log, digest, change)
        else:
            log.error(exc.message)
            outcome = ImportOutcome("failed", exc.code, digest)
            _record_failure(req, outcome)
    except MemoryError:
        log.error("the file needs more memory than is available")
        outcome = ImportOutcome("failed", "TOO_LARGE", digest)
    except sqlite3.OperationalError as exc:  # the service retries these (aimport.service.importjob.TRANSIENT)
        log.error(f"the system store is not available: {exc}")
        outcome = ImportOutcome("failed", "STORE_UNAVAILABLE", digest, extra={"error": str(exc)})
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):  # writing our own work files: the state disk
            log.error(f"the state directory cannot be written: {exc}")
            code = "STATE_UNWRITABLE" if exc.errno == errno.EROFS else "DISK_FULL"
            outcome = ImportOutcome("failed", code, digest, extra={"error": str(exc)})
        elif _change(req):
            outcome = _changed(log, digest, _change(req))
        else:
            log.error(f"the file cannot be read: {exc.strerror or exc}")
            outcome = ImportOutcome("failed", "FILE_UNREADABLE", digest)
    except Exception as exc:  # noqa: BLE001 - bad input must never stop the service
        if _change(req):
            outcome = _changed(log, digest, _change(req))
        else:
            log.error(f"internal error: {type(exc).__name__}: {exc}")
            outcome = ImportOutcome("failed", "INTERNAL_ERROR", digest)
    t = outcome.totals
    if t:
        log.info(f"finished: {outcome.status}; rows {t.get('rows', 0)}, created {t.get('created', 0)}, "
                 f"updated {t.get('updated', 0)}, deleted {t.get('deleted', 0)}, unchanged {t.get('unchanged', 0)}, "
                 f"rejected {t.get('rejected', 0)}")
    else:
        log.info(f"finished: {outcome.status}")
    outcome.log_path = req.log_path
    if req.log_path is None:
        outcome.extra["log_text"] = log.text()
    log.close()
    return outcome


def _change(req: ImportRequest) -> str:
    try:
        verify_unchanged(req)
    except FileChanged as exc:
        return str(exc)
    return ""


def _changed(log: ImportLog, digest: str, change: str) -> ImportOutcome:
    log.warning(f"the file changed while it was imported ({change}): everything was rolled back")
    return ImportOutcome("failed", "FILE_CHANGED", digest, extra={"error": change})


def _import_items(req: ImportRequest, log: ImportLog, digest: str, progress: Callable[[str, int], None] | None) -> ImportOutcome:
    if req.import_type == "Configuration" and req.path.suffix.lower() != ".xlsx":
        raise FileFailure("UNSUPPORTED_FORMAT", "a Configuration import must be an Excel workbook (.xlsx)")
    wb = open_workbook(req.path, req.max_unzipped_bytes, req.text_fallback_encoding)
    for w in wb.warnings:
        log.warning(w)
    stage = Stage(req.work_dir / f"{req.import_key}.stage.sqlite")
    sheet_errors: list[str] = []
    try:
        staged: list[StagedSheet] = []
        for t, sheet_name in plan_sheets(req.import_type, wb, log):
            cb = (lambda n, s=sheet_name: progress(f"reading {s}", n)) if progress else None
            try:
                staged.append(stage.stage_sheet(t, wb.sheet(sheet_name), log, cb))
            except HeaderError as exc:
                if req.import_type != "Configuration":
                    raise
                log.error(f"sheet {sheet_name!r} skipped: {exc.message}")
                sheet_errors.append(exc.code)
        conn = store.open_store(req.system_db)
        store.defer_checkpoint(conn)
        try:
            with store.write_turn(req.system_db):
                return _apply_all(conn, req, log, digest, stage, staged, sheet_errors, progress)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            store.close_later(conn)  # the WAL checkpoint runs while the service archives
    finally:
        stage.close()
        wb.close()


def _apply_all(conn: sqlite3.Connection, req: ImportRequest, log: ImportLog, digest: str, stage: Stage,
               staged: list[StagedSheet], sheet_errors: list[str],
               progress: Callable[[str, int], None] | None) -> ImportOutcome:
    """Stage 2, in one transaction: every staged sheet, then the ledger row, then COMMIT."""
    conn.execute("ATTACH DATABASE ? AS stage", (str(stage.path),))
    conn.execute("BEGIN IMMEDIATE")
    applier = Applier(conn, log, by=req.import_key, logon_user=req.actor)  # the logon user cannot be cut off
    applier.stage_attached = True
    results: list[SheetStats] = []
    for s in staged:
        cb = (lambda n, s=s: progress(f"storing {s.sheet}", n)) if progress else None
        results.append(applier.apply(stage, s, cb))
    outcome = _outcome(results, sheet_errors, digest)
    if outcome.error_code in FAILURE_TEXT:
        log.error(FAILURE_TEXT[outcome.error_code])
    commit_outcome(conn, req, outcome)
    return outcome


def commit_outcome(conn: sqlite3.Connection, req: ImportRequest, outcome: ImportOutcome) -> None:
    """Ledger the outcome in the same transaction as the data, then commit (a check rolls back)."""
    stats: dict[str, Any] = {"totals": outcome.totals, "sheets": outcome.sheets}
    if "result_fields" in outcome.extra:
        stats["result_fields"] = outcome.extra["result_fields"]
    store.ledger_put(conn, req.import_key, outcome.sha256, req.import_type, req.path.name,
                     outcome.status, outcome.error_code, stats)
    if faults.delay("before_commit"):  # tests: a writer gets to change the file right before the check
        import time

        time.sleep(faults.delay("before_commit"))
    verify_unchanged(req)  # inside the transaction: a file that changed since it was hashed rolls back
    if req.dry_run:
        conn.execute("ROLLBACK")
    else:
        conn.execute("COMMIT")
        faults.point("after_commit")


def _outcome(results: list[SheetStats], sheet_errors: list[str], digest: str) -> ImportOutcome:
    totals = {k: sum(getattr(r, k) for r in results) for k in COUNTS}
    sheets = [r.as_dict() for r in results]
    if totals["rows"] == 0 and not sheet_errors:
        return ImportOutcome("failed", "NO_ROWS", digest, totals, sheets)
    ok = totals["rows"] - totals["rejected"]
    if ok <= 0:
        code = sheet_errors[0] if sheet_errors and totals["rows"] == 0 else "ALL_ROWS_REJECTED"
        return ImportOutcome("failed", code, digest, totals, sheets)
    if totals["rejected"] or sheet_errors:
        return ImportOutcome("partial", "ROWS_REJECTED" if totals["rejected"] else sheet_errors[0], digest, totals, sheets)
    return ImportOutcome("succeeded", None, digest, totals, sheets)


def _record_failure(req: ImportRequest, outcome: ImportOutcome) -> None:
    """Ledger a file-level failure, so recovery only re-archives it."""
    if req.dry_run:
        return
    try:
        conn = store.open_store(req.system_db)
        try:
            conn.execute("BEGIN IMMEDIATE")
            store.ledger_put(conn, req.import_key, outcome.sha256, req.import_type, req.path.name,
                             outcome.status, outcome.error_code, {"totals": {}, "sheets": []})
            conn.execute("COMMIT")
        finally:
            conn.close()
    except sqlite3.Error:
        pass
