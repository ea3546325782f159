"""What the jobs view shows, read from the running service (files waiting, progress files) and the audit trail.

Every function here blocks (SQLite, the file system): the routes call them in a worker thread.
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

from aimport.layout import IMPORT_TYPES, display_name
from aimport.service import progress
from aimport.settings import Settings
from aimport.store import audit, auditqueries
from aimport.web.heldfiles import HeldFile, held_files
from aimport.web.importlog import LogText, RejectedRow, read_log, rejected_rows

__all__ = ["STATUSES", "Figures", "ImportDetail", "QueuedFile", "RunningImport", "ServiceView", "Summary", "campaigns",
           "import_detail", "imports", "summary", "version"]

STATUSES = ("queued", "in_process", "succeeded", "partial", "failed")


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


@dataclass(frozen=True)
class RunningImport:
    id: int
    file: str
    type: str
    started_at: str | None
    size_bytes: int | None
    phase: str = ""  # "reading Skills", "storing Skills"; "" before the first report
    rows: int = 0  # rows of that phase so far


@dataclass(frozen=True)
class Figures:
    failed_today: int
    partial_today: int
    finished_today: int
    oldest_waiting: QueuedFile | None
    hours: list[auditqueries.HourTotals]  # the last 24 hours, oldest first, every hour present


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


@dataclass
class ImportDetail:
    row: dict[str, Any]
    events: list[dict[str, Any]]
    log: LogText
    rejected: list[RejectedRow] = field(default_factory=list)


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
                              h.starts_at if h else None, h.reason if h else ""))
    return sorted(out, key=lambda q: (q.since, q.file))


def running_imports(settings: Settings) -> list[RunningImport]:
    out = []
    for r in auditqueries.list_imports(settings.audit_db, status="in_process", limit=200):
        p = progress.read(settings.work_dir, r["id"])
        out.append(RunningImport(r["id"], r["file_name"], r["import_type"], r["started_at"], r["size_bytes"],
                                 p.phase if p else "", p.rows if p else 0))
    return out


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
    return Figures(failed, partial, finished, min(queued, key=lambda q: q.since) if queued else None, hours)


def summary(view: ServiceView) -> Summary:
    s = view.settings
    now = dt.datetime.now(dt.UTC)
    queued = queued_files(view)
    running = running_imports(s) if s.audit_db.exists() else []
    figs = figures(s, queued, now) if s.audit_db.exists() else Figures(0, 0, 0, None, [])
    return Summary(audit.now_iso(now), f"{s.server}_{s.unit}", s.enabled and view.intake is not None,
                   int(view.limiter.total_tokens), queued, running, figs)


def imports(settings: Settings, import_type: str, status: str, limit: int) -> list[dict[str, Any]]:
    """Recent imports, newest first (``import_type``/``status`` "" for all)."""
    if not settings.audit_db.exists():
        return []
    rows = auditqueries.list_imports(settings.audit_db, import_type=import_type or None, status=status or None, limit=limit)
    return rows[::-1]


def import_detail(settings: Settings, import_id: int) -> ImportDetail | None:
    if not settings.audit_db.exists():
        return None
    row, events = auditqueries.get_import(settings.audit_db, import_id)
    if row is None:
        return None
    for e in events:
        try:
            e["detail"] = json.loads(e["detail"])
        except (TypeError, ValueError):
            pass
    log = _log_of(settings, row)
    return ImportDetail(row, events, log, rejected_rows(log.lines))


def _log_of(settings: Settings, row: dict[str, Any]) -> LogText:
    """The archived ``.log`` (History/ of the import's type), or the work log while the import runs."""
    t, name = row["import_type"], row["history_name"] or ""
    if t not in IMPORT_TYPES:
        return LogText(problem="unknown import type")
    if name and Path(name).name == name:
        hist = settings.layout.history_dir(t)
        text = read_log(hist / f"{name}.log", hist, "history")
        if text.source or row["status"] != "in_process":
            return text
    if row["status"] == "in_process":
        key = auditqueries.import_key_of(settings.audit_db, int(row["id"]))
        if key and Path(key).name == key:
            return read_log(settings.work_dir / f"{key}.log", settings.work_dir, "work")
    return LogText(problem="no .log yet" if row["status"] == "in_process" else "the import has no .log in History/")


def campaigns(settings: Settings) -> list[dict[str, Any]]:
    """Every campaign: status, customers handled / total, calls, export file (the one place campaigns are read)."""
    from aimport.campaigns import model
    from aimport.store.schema import open_store

    with open_store(settings.store_address) as db:
        return model.summaries(db)


def version(view: ServiceView) -> str:
    """Changes whenever something the page shows (but the campaigns) changes: a cheap fingerprint."""
    s = view.settings
    parts: list[Any] = [auditqueries.last_change(s.audit_db) if s.audit_db.exists() else None]
    parts.append(sorted(str(p) for p in view.intake.pending_paths()) if view.intake is not None else None)
    held: list[HeldFile] = held_files(view.intake, s.layout)
    parts.append(sorted((h.type, h.name, str(h.starts_at)) for h in held))
    try:
        parts.append(sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(s.work_dir) if e.name.startswith("progress-")))
    except OSError:
        parts.append(None)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]
