"""What the jobs view shows, read from the running service (files waiting, progress files) and the audit trail.

Every function here blocks (SQLite, the file system): the routes call them in a worker thread. Names and other
text from outside (file names, audit event details) are shown by the one escaping rule
(:func:`aimport.names.display_name`). A held file (waiting for the end of office hours) is listed with the
queued files, marked ``held`` (the page shows it in a table of its own), but counted apart and never the oldest
waiting file: ``figures.queued`` and ``figures.held`` are ``aimport_pending_files`` and ``aimport_held_files``
of /metrics and the ``queued`` and ``held`` of ``aimport status`` (:func:`waiting`, the one rule).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio

from aimport.errors import BY_CODE
from aimport.layout import IMPORT_TYPES
from aimport.names import display_name
from aimport.settings import Settings
from aimport.store import audit, auditqueries
from aimport.store import units as store_units
from aimport.web import rejectedfile
from aimport.web.heldview import HeldRow, held_files
from aimport.web.logpages import LogIndex, LogText, RejectedRow, load_log, page_of
from aimport.web.runningimports import RunningImport, running_imports

__all__ = ["STATUSES", "FailureReason", "Figures", "ImportDetail", "Pages", "QueuedFile", "RunningImport", "ServiceView", "Summary",
           "campaigns", "import_detail", "imports", "shown", "summary", "version"]

STATUSES = ("queued", "in_process", "succeeded", "partial", "failed", "cancelled")
EVENTS_SHOWN = 500  # audit events of one import in an answer (the first ones; events_total says how many)


class PendingSource(Protocol):
    def pending_paths(self) -> list[Path]: ...


class ServiceView(Protocol):
    """What the jobs view reads of the running service (aimport.service.health.HealthView has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def limiter(self) -> anyio.CapacityLimiter: ...

    @property
    def intake(self) -> PendingSource | None: ...


@dataclass(frozen=True)
class QueuedFile:
    file: str
    type: str
    size: int
    since: str  # ISO UTC: the file's mtime (when it arrived, for a file dropped by rename)
    held: bool = False  # held for the office-hours window (a large file dropped in office hours)
    held_until: str | None = None  # when a held file starts (None: only `aimport release` starts it)
    held_reason: str = ""  # the threshold it is above
    estimated_rows: int | None = None  # a held file's rows, about (None: not estimated)


@dataclass(frozen=True)
class Figures:
    failed_today: int
    partial_today: int
    finished_today: int
    oldest_waiting: QueuedFile | None  # the oldest queued file that is not held
    hours: list[auditqueries.HourTotals]  # the last 24 hours, oldest first, every hour present
    queued: int = 0  # files waiting for their turn (held files not counted)
    held: int = 0  # files held for the end of office hours


@dataclass(frozen=True)
class Summary:
    now: str
    unit: str
    enabled: bool
    max_concurrent: int
    queued: list[QueuedFile]
    in_process: list[RunningImport]
    figures: Figures
    event_streams: int = 0  # live-update connections open now (set by the routes)
    types: tuple[str, ...] = IMPORT_TYPES  # for the page's type filter
    units: list[dict[str, Any]] = field(default_factory=list)  # a shared store's units (aimport.store.units.latest)


@dataclass(frozen=True)
class Pages:
    """Which page of an import's .log lines and of its rejected rows an answer holds."""

    log_offset: int = 0
    log_limit: int = 500
    rejected_offset: int = 0
    rejected_limit: int = 200


@dataclass(frozen=True)
class FailureReason:
    """Why an import is failed or partial: its error code, what the code means, and what its .log said."""

    code: str
    meaning: str  # the code's meaning (aimport.errors), "" for a code this version does not know
    message: str  # the first ERROR line of its .log (the text after the level), "" when there is none


@dataclass
class ImportDetail:
    row: dict[str, Any]
    events: list[dict[str, Any]]  # the first EVENTS_SHOWN
    log: LogText  # one page of lines, with offset and total
    rejected: list[RejectedRow] = field(default_factory=list)  # one page of rows
    rejected_total: int = 0  # rejected rows in the shown part of the .log
    rejected_offset: int = 0
    events_total: int = 0
    reason: FailureReason | None = None  # None: succeeded, or still running
    rejected_file: str = ""  # a partial import's rejected rows in History/ (GET /api/imports/<id>/rejected)


def _iso(ts: float) -> str:
    return audit.now_iso(dt.datetime.fromtimestamp(ts, dt.UTC))


def queued_files(view: ServiceView) -> list[QueuedFile]:
    """Files detected and still in their drop folder (settling or waiting for a slot), held files included."""
    layout = view.settings.layout
    held = {(h.type, h.name): h for h in held_files(view.intake, layout)}
    paths = set(view.intake.pending_paths()) if view.intake is not None else set()
    paths |= {layout.type_dir(h.type) / h.name for h in held.values()}
    out = []
    for p in paths:
        t = layout.type_of(p)
        try:
            st = os.stat(p)
        except OSError:  # claimed meanwhile (in InProcess/ now) or gone
            continue
        if t is None:
            continue
        h = held.get((t, p.name))
        out.append(QueuedFile(display_name(p.name), t, st.st_size, _iso(st.st_mtime), h is not None,
                              h.starts_at if h else None, h.reason if h else "", h.estimated_rows if h else None))
    return sorted(out, key=lambda q: (q.since, q.file))


def shown(value: Any) -> Any:
    """``value`` (an audit row, an event's detail) with every text in it shown by the one escaping rule."""
    if isinstance(value, str):
        return display_name(value)
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def waiting(queued: list[QueuedFile]) -> tuple[QueuedFile | None, int, int]:
    """The oldest waiting file, how many files wait for their turn, how many are held: a held file is not waiting
    (the one rule; /metrics and `aimport status` count the same way)."""
    turn = [q for q in queued if not q.held]
    return min(turn, key=lambda q: q.since) if turn else None, len(turn), len(queued) - len(turn)


def figures(settings: Settings, queued: list[QueuedFile], now: dt.datetime) -> Figures:
    midnight = audit.now_iso(now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0))
    first = (now.astimezone(dt.UTC) - dt.timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    got = {h.hour: h for h in auditqueries.hourly_totals(settings.audit_db, audit.now_iso(first))}
    hours = []
    for i in range(24):
        key = (first + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H")
        hours.append(got.get(key, auditqueries.HourTotals(key, 0, 0, 0)))
    failed = auditqueries.count_finished(settings.audit_db, midnight, "failed")
    partial = auditqueries.count_finished(settings.audit_db, midnight, "partial")
    finished = failed + partial + auditqueries.count_finished(settings.audit_db, midnight, "succeeded")
    oldest, n_queued, n_held = waiting(queued)
    return Figures(failed, partial, finished, oldest, hours, n_queued, n_held)


def summary(view: ServiceView) -> Summary:
    s = view.settings
    now = dt.datetime.now(dt.UTC)
    queued = queued_files(view)
    running = running_imports(s) if s.audit_db.exists() else []
    if s.audit_db.exists():
        figs = figures(s, queued, now)
    else:
        oldest, n_queued, n_held = waiting(queued)
        figs = Figures(0, 0, 0, oldest, [], n_queued, n_held)
    return Summary(audit.now_iso(now), f"{s.server}_{s.unit}", s.enabled and view.intake is not None,
                   int(view.limiter.total_tokens), queued, running, figs, units=store_units.latest())


def imports(settings: Settings, import_type: str, status: str, limit: int) -> list[dict[str, Any]]:
    """Recent imports, newest first (``import_type``/``status`` "" for all)."""
    if not settings.audit_db.exists():
        return []
    rows = auditqueries.list_imports(settings.audit_db, import_type=import_type or None, status=status or None, limit=limit)
    return [shown(r) for r in rows[::-1]]


def import_detail(settings: Settings, import_id: int, pages: Pages = Pages()) -> ImportDetail | None:
    """One import: its audit row, its first events, one page of its .log lines and one of its rejected rows."""
    if not settings.audit_db.exists():
        return None
    row, events = auditqueries.get_import(settings.audit_db, import_id)
    if row is None:
        return None
    for e in events[:EVENTS_SHOWN]:
        try:
            e["detail"] = json.loads(e["detail"])
        except (TypeError, ValueError):
            pass
    found = _log_of(settings, row)
    message = ""
    if isinstance(found, LogText):
        log, rejected, total = found, [], 0
    else:
        index, source = found
        log = page_of(index, source, pages.log_offset, pages.log_limit)
        rejected, total = index.rejected(pages.rejected_offset, pages.rejected_limit), len(index.rejects)
        message = index.first_error()
    code = str(row.get("error_code") or "")
    reason = None
    if code or row["status"] in ("failed", "partial"):
        known = BY_CODE.get(code)
        reason = FailureReason(display_name(code), known.meaning if known else "", message)
    return ImportDetail(shown(row), shown(events[:EVENTS_SHOWN]), log, rejected, total, pages.rejected_offset,
                        len(events), reason, rejectedfile.name_of(settings, row))


def _log_of(settings: Settings, row: dict[str, Any]) -> tuple[LogIndex, str] | LogText:
    """The archived ``.log`` (History/ of the import's type), or the work log while the import runs, with its
    source; or a LogText saying why there is none."""
    t, name = row["import_type"], row["history_name"] or ""
    if t not in IMPORT_TYPES:
        return LogText(problem="unknown import type")
    if name and Path(name).name == name:
        hist = settings.layout.history_dir(t)
        found = load_log(hist / f"{name}.log", hist)
        if not isinstance(found, str):
            return found, "history"
        if row["status"] != "in_process":
            return LogText(problem=found)
    if row["status"] == "in_process":
        key = auditqueries.import_key_of(settings.audit_db, int(row["id"]))
        if key and Path(key).name == key:
            work = load_log(settings.work_dir / f"{key}.log", settings.work_dir)
            return (work, "work") if not isinstance(work, str) else LogText(problem=work)
    return LogText(problem="no .log yet" if row["status"] == "in_process" else "the import has no .log in History/")


def campaigns(settings: Settings) -> list[dict[str, Any]]:
    """Every campaign: status, customers handled / total, calls, export file (the one place campaigns are read)."""
    from aimport.campaigns import model
    from aimport.store.schema import open_store

    with open_store(settings.store_address) as db:
        return [shown(c) for c in model.summaries(db)]


def version(view: ServiceView) -> str:
    """Changes whenever something the page shows (but the campaigns) changes: a cheap fingerprint."""
    s = view.settings
    parts: list[Any] = [auditqueries.last_change(s.audit_db) if s.audit_db.exists() else None]
    parts.append(sorted(str(p) for p in view.intake.pending_paths()) if view.intake is not None else None)
    held: list[HeldRow] = held_files(view.intake, s.layout)
    parts.append(sorted((h.type, h.name, str(h.starts_at)) for h in held))
    parts.append([(u.get("unit"), u.get("host"), u.get("pid"), u.get("in_flight"),  # a unit came, went, took a turn
                   [(t.get("table"), t.get("waiting_s") is None) for t in u.get("turns", [])])  # type: ignore[attr-defined]
                  for u in store_units.latest()])
    try:
        parts.append(sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(s.work_dir) if e.name.startswith("progress-")))
    except OSError:
        parts.append(None)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]
