"""A file in OutboundCampaign/: a new campaign with its customers, started (Active) in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

from aimport import faults
from aimport.campaigns import model
from aimport.campaigns.model import ACTIVE, INVALID, PASSIVE
from aimport.errors import ErrorCode
from aimport.importing import scratch as scratch_files
from aimport.importing.headers import find_header
from aimport.importing.ledger import commit_outcome
from aimport.importing.outcome import FileFailure, ImportOutcome, ImportRequest, Progress, SheetTotals, Status, Totals
from aimport.importing.rowparse import Column, Rejection, parse_cells
from aimport.importing.sheetnotes import note_phones_from_numbers, report_hidden_rows
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.catalog import CUSTOMER
from aimport.itemtypes.schema import DELETE, Field, norm_header
from aimport.itemtypes.values import FAST_TEXT, Invalid, as_text, parse, parse_date, values_read
from aimport.readers.base import DAYS_1904, CellError, RawSheet, Workbook
from aimport.readers.choose import open_workbook
from aimport.readers.hiddenrows import HiddenRows
from aimport.store import campaigns as stored
from aimport.store import customers, stagedrows, turn
from aimport.store.db import Db, with_retries
from aimport.store.schema import open_store

__all__ = ["SETTINGS", "import_campaign", "read_settings"]

SETTINGS = ("Name", "CopySettingsFrom", "Script", "Queue", "StartDate", "EndDate", "NumberOfRedials",
            "RedialInterval", "TimeZone")
DATE_SETTINGS = ("StartDate", "EndDate")
TEXT_SETTING = Field("Setting", "text")  # Script, Queue, Name: any text, but never an error value
BATCH = 2000
STAGED = ", ".join((*model.CUSTOMER_COLUMNS, "data"))  # a customer row, staged and stored


def read_settings(wb: Workbook, log: ImportLog) -> tuple[dict[str, Any], str | None]:
    """The optional ``Campaign`` sheet (Setting | Value rows) and the customers sheet name."""
    names = wb.sheet_names()
    settings_sheet = next((n for n in names if norm_header(n) == "campaign"), None)
    customers = next((n for n in names if norm_header(n) == "customers"), None)
    customers = customers or next((n for n in names if n != settings_sheet), None)
    found: dict[str, Any] = {}
    if settings_sheet:
        known = {norm_header(s): s for s in SETTINGS}
        raw_sheet = wb.sheet(settings_sheet)
        for row_no, row in raw_sheet.rows():
            key, value = as_text(row[0] if row else ""), row[1] if len(row) > 1 else None
            if norm_header(key) in ("setting", ""):
                continue
            if norm_header(key) not in known:
                log.warning(f"sheet {settings_sheet!r} row {row_no}: unknown setting {key!r} ignored "
                            f"(known: {', '.join(SETTINGS)})")
                continue
            if raw_sheet.date1904 and known[norm_header(key)] in DATE_SETTINGS and isinstance(value, (int, float)):
                value += DAYS_1904  # a plain-number serial in the workbook's own (1904) date system
            keep = isinstance(value, (dt.date, int, float, CellError))
            found[known[norm_header(key)]] = value if keep else as_text(value)
    return found, customers


def import_campaign(req: ImportRequest, log: ImportLog, digest: str, progress: Progress | None = None) -> ImportOutcome:
    """Create the campaign with its customers (``progress`` is not reported: customers are staged in one pass)."""
    wb = open_workbook(req.path, req.max_unzipped_bytes, req.text_fallback_encoding)
    for w in wb.warnings:
        log.warning(w)
    for note in wb.infos:  # sheets passed over that hold no rows (a macro sheet, a chart sheet)
        log.info(note)
    try:
        settings, sheet_name = read_settings(wb, log)
        if sheet_name is None:
            raise FileFailure(ErrorCode.NO_ROWS, "the workbook has no customers sheet")
        name = str(settings.get("Name") or req.path.stem).strip()
        scratch_path = scratch_files.path(req.work_dir, req.import_key, "customers")
        req.work_dir.mkdir(parents=True, exist_ok=True)
        scratch_path.unlink(missing_ok=True)
        scratch = sqlite3.connect(scratch_path, isolation_level=None)
        try:  # parse and check every customer before taking the store's write turn
            scratch.execute("PRAGMA journal_mode=OFF")
            scratch.execute("PRAGMA synchronous=OFF")
            totals, extra_cols = _customers(scratch, wb.sheet(sheet_name), log, req.hidden_rows)
        finally:
            scratch.close()
        try:
            db = open_store(req.store_address)
            try:
                stagedrows.attach_stage(db, scratch_path)  # SQLite: the customers are copied from it in the transaction
                return with_retries(db, lambda: _import(db, req, log, digest, settings, name, sheet_name, totals,
                                                        extra_cols, scratch_path))
            finally:
                db.rollback()
                db.close()
        finally:
            scratch_path.unlink(missing_ok=True)
    finally:
        wb.close()


def _import(db: Db, req: ImportRequest, log: ImportLog, digest: str, settings: dict[str, Any], name: str,
            sheet_name: str, totals: dict[str, int], extra_cols: list[str], scratch_path: Path) -> ImportOutcome:
    """The campaign and its (already checked) customers, in one transaction with the store's write turn
    (run again from the start when the database gives it up; the work log keeps the last run's lines)."""
    log.restart_mark()
    turn.take(db, turn.CAMPAIGN)
    if stored.get(db, name) is not None:
        raise FileFailure(ErrorCode.CAMPAIGN_EXISTS, f"a campaign named {name!r} already exists; it was left "
                          "unchanged (rename the file or set another Name in the Campaign sheet)")
    cid, invalid = _create_campaign(db, name, settings, req, log)
    customers.add_customers(db, cid, scratch_path)
    if not invalid and totals["created"] == 0:
        invalid.append("no valid customers")
    filtered = customers.filter_blocked(db, cid, dt.date.today())
    if filtered:
        log.warning(f"{filtered} customer(s) filtered: every phone number they have is on the blocked list "
                    "(result Filtered, never called)")
    c = model.require(db, name)
    status = INVALID if invalid else PASSIVE if model.not_started(c) else ACTIVE
    stored.set_status(db, cid, status)
    stored.describe(db, cid, extra_cols, "; ".join(invalid) or None)
    outcome = _outcome(digest, totals, sheet_name, name, status, invalid, log)
    if filtered:
        outcome.result_fields["filtered"] = filtered
    outcome.result_fields.update(log.tallies)
    if status == PASSIVE:
        log.info(f"campaign {name!r} created Passive: it starts (Active) on its StartDate {c.start_date}")
    faults.point("mid_transaction")
    commit_outcome(db, req, outcome)
    return outcome


def _create_campaign(db: Db, name: str, settings: dict[str, Any], req: ImportRequest,
                     log: ImportLog) -> tuple[int, list[str]]:
    source = str(settings.get("CopySettingsFrom") or req.campaign_template)
    template = stored.get(db, source)
    values: dict[str, Any] = {"script": None, "queue": None, "start_date": None, "end_date": None, "time_zone": None,
                              "number_of_redials": model.DEFAULT_REDIALS, "redial_interval_s": model.DEFAULT_REDIAL_INTERVAL_S}
    invalid: list[str] = []
    if template is not None:
        for k in values:
            values[k] = getattr(template, k)
        log.info(f"campaign {name!r}: settings copied from campaign {source!r}")
    elif settings.get("CopySettingsFrom"):
        invalid.append(f"CopySettingsFrom: no campaign named {source!r}")
    else:
        log.warning(f"template campaign {source!r} not found: built-in defaults used "
                    f"({model.DEFAULT_REDIALS} redials, {model.DEFAULT_REDIAL_INTERVAL_S} s apart, no script)")
    for key, column, f in (("Script", "script", None), ("Queue", "queue", None), ("TimeZone", "time_zone", Field("TimeZone", "timezone")),
                           ("StartDate", "start_date", Field("StartDate", "date")), ("EndDate", "end_date", Field("EndDate", "date")),
                           ("NumberOfRedials", "number_of_redials", Field("NumberOfRedials", "int", min=0, max=99)),
                           ("RedialInterval", "redial_interval_s", Field("RedialInterval", "int", min=0, max=86400 * 30))):
        raw = settings.get(key)
        if raw in (None, ""):
            continue
        try:
            values[column] = parse(f or TEXT_SETTING, raw)
        except Invalid as exc:
            invalid.append(f"{key}: {exc}")
    if values["script"] and not customers.script_exists(db, values["script"]):
        invalid.append(f"Script: no script named {values['script']!r}")
    if values["queue"] and not customers.queue_exists(db, values["queue"]):
        invalid.append(f"Queue: no queue named {values['queue']!r}")
    if values["start_date"] and values["end_date"] and parse_date(values["end_date"]) < parse_date(values["start_date"]):
        invalid.append("EndDate is before StartDate")
    elif values["end_date"] and str(values["end_date"]) < model.today_in(values["time_zone"]).isoformat():
        invalid.append(f"EndDate {values['end_date']} has already passed")
    for reason in invalid:
        log.error(f"campaign {name!r} is invalid: {reason}")
    cid = stored.create(db, stored.NewCampaign(
        name, values["script"], values["queue"], values["start_date"], values["end_date"], values["time_zone"],
        values["number_of_redials"], values["redial_interval_s"], source if template else None, req.import_key))
    return cid, invalid


def _customers(scratch: sqlite3.Connection, sheet: RawSheet, log: ImportLog,
               hidden_rows: str = "import") -> tuple[dict[str, int], list[str]]:
    """Parse and check the customers into ``scratch.staged``; returns counts and the extra columns.

    Rows hidden in the sheet are imported, skipped or rejected (``hidden_rows``) and named in a WARNING.
    """
    scratch.execute(f"CREATE TABLE staged (row_no INTEGER PRIMARY KEY, {STAGED})")
    rows = sheet.rows()
    header = find_header(CUSTOMER, rows, sheet.hidden_rows)
    hidden = HiddenRows(sheet.hidden_rows, hidden_rows)
    # extra columns are kept as text (never an error value: a failed lookup is not stored as its text)
    extra: list[Column] = [(i, Field(text, "text"), FAST_TEXT["text"]) for i, text in header.unknown_columns]
    cols = [c for c in header.plan if c[1] is not DELETE]
    mandatory = [f.name for f in CUSTOMER.fields if f.mandatory]
    seen: dict[str, int] = {}
    totals = {"rows": 0, "created": 0, "rejected": 0}
    batch: list[tuple[Any, ...]] = []
    sql = f"INSERT INTO staged (row_no, {STAGED}) VALUES ({', '.join('?' * (len(model.CUSTOMER_COLUMNS) + 2))})"

    def reject(row_no: int, rejection: Rejection) -> None:
        log.rejected(sheet.name, row_no, rejection.column, rejection.reason)
        totals["rejected"] += 1

    for row_no, row in hidden.pairs(rows) if sheet.hidden_rows else rows:
        totals["rows"] += 1
        values = parse_cells(cols, row)
        if values_read().from_numbers:  # phones from number cells: named (or dropped with a rejected row)
            note_phones_from_numbers(log, values_read(), sheet.name, row_no, not isinstance(values, Rejection))
        if isinstance(values, Rejection):
            reject(row_no, values)
            continue
        missing = next((n for n in mandatory if not values.get(n)), None)
        if missing is not None:
            reject(row_no, Rejection(missing, f"{missing} is mandatory"))
            continue
        ext = values["ExternalId"]
        if ext in seen:
            reject(row_no, Rejection("ExternalId", f"duplicate ExternalId {ext!r}: already in row {seen[ext]}"))
            continue
        seen[ext] = row_no
        data = parse_cells(extra, row)
        if isinstance(data, Rejection):
            reject(row_no, data)
            continue
        batch.append((row_no, *(values.get(f.name) for f in CUSTOMER.fields),
                      json.dumps(data, ensure_ascii=False) if data else None))
        if len(batch) >= BATCH:
            scratch.executemany(sql, batch)
            totals["created"] += len(batch)
            batch.clear()
            faults.point("mid_parse")
    scratch.executemany(sql, batch)
    totals["created"] += len(batch)
    rejected = report_hidden_rows(hidden, sheet.name, log)
    totals["rows"] += rejected
    totals["rejected"] += rejected
    return totals, [f.name for _, f, _ in extra]


def _outcome(digest: str, totals: dict[str, int], sheet: str, name: str, status: str, invalid: list[str],
             log: ImportLog) -> ImportOutcome:
    full = Totals(rows=totals["rows"], created=totals["created"], rejected=totals["rejected"])
    sheets = [SheetTotals(sheet, "customer", full)]
    fields: dict[str, str | int] = {"campaign": name, "campaign_status": status}
    code: ErrorCode | None
    if status == INVALID:
        log.error(f"campaign {name!r} was created as Invalid and not started: {'; '.join(invalid)}")
        code, result = ErrorCode.CAMPAIGN_INVALID, Status.PARTIAL if totals["created"] else Status.FAILED
    elif totals["rejected"]:
        code, result = ErrorCode.ROWS_REJECTED, Status.PARTIAL
    else:
        code, result = None, Status.SUCCEEDED
    if status == ACTIVE:
        log.info(f"campaign {name!r} started (Active) with {totals['created']} customer(s)")
    return ImportOutcome(result, code, digest, full, sheets, result_fields=fields)
