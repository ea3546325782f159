"""The imports in process, as the jobs view shows them: the phase, rows done of about how many, an estimated finish.

The rows done come from the import's progress file (:mod:`aimport.service.progress`: the phase, ``reading
Skills`` or ``storing Skills``, and the rows of that phase so far); how many rows the file holds is estimated
from its first bytes, as office hours do (:func:`aimport.readers.rowestimate.estimate_rows`, on the file in
``InProcess/``). An import reads its rows, then stores them: the work is about twice the rows, and the
finish is estimated from the rate so far (rows read plus rows stored per second since it started). Every
figure here is an estimate and the page says "about"; none when there is nothing to go on (no progress yet,
a file whose rows cannot be estimated).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from aimport.layout import IMPORT_TYPES
from aimport.names import display_name
from aimport.readers.rowestimate import estimate_rows
from aimport.service import progress
from aimport.settings import Settings
from aimport.store import audit, auditqueries

__all__ = ["RunningImport", "estimate_finish", "running_imports"]

PHASES = ("reading", "storing")  # in this order: the work of an import is about len(PHASES) x its rows
_ESTIMATES: OrderedDict[tuple[str, int, int], int | None] = OrderedDict()  # (path, size, mtime) -> rows
_ESTIMATES_KEPT = 64
_lock = threading.Lock()


@dataclass(frozen=True)
class RunningImport:
    id: int
    file: str
    type: str
    started_at: str | None
    size_bytes: int | None
    phase: str = ""  # "reading Skills", "storing Skills"; "" before the first report
    rows: int = 0  # rows of that phase so far
    rows_estimate: int | None = None  # about how many data rows the file holds (None: cannot be estimated)
    finish_estimate: str | None = None  # ISO UTC: when it should be done at the rate so far (None: no basis yet)


def _rows_in(path: Path) -> int | None:
    """The estimated data rows of ``path`` (cached by path, size and mtime: the page asks often)."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _ESTIMATES:
            _ESTIMATES.move_to_end(key)
            return _ESTIMATES[key]
    rows = estimate_rows(path)
    with _lock:
        _ESTIMATES[key] = rows
        while len(_ESTIMATES) > _ESTIMATES_KEPT:
            _ESTIMATES.popitem(last=False)
    return rows


def estimate_finish(started: dt.datetime, phase: str, rows: int, total: int | None, at: dt.datetime) -> dt.datetime | None:
    """When an import started at ``started`` that reported ``rows`` of ``phase`` at ``at`` should finish, at its
    rate so far; None without a basis (no estimate of the rows, nothing done yet, an unknown phase)."""
    verb = phase.partition(" ")[0]
    if not total or verb not in PHASES or at <= started:
        return None
    done = PHASES.index(verb) * total + min(rows, total)
    if done <= 0:
        return None
    work = len(PHASES) * total
    rate = done / (at - started).total_seconds()  # rows read or stored per second so far
    return at + dt.timedelta(seconds=max(0, work - done) / rate)


def _parse(iso: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None
    except ValueError:
        return None


def running_imports(settings: Settings) -> list[RunningImport]:
    out = []
    for r in auditqueries.list_imports(settings.audit_db, status="in_process", limit=200):
        p = progress.read(settings.work_dir, r["id"])
        name, t = str(r["file_name"] or ""), str(r["import_type"])
        total = None
        if name and Path(name).name == name and t in IMPORT_TYPES:
            total = _rows_in(settings.layout.in_process_dir(t) / name)
        started, finish = _parse(r["started_at"]), None
        if p is not None and started is not None:
            finish = estimate_finish(started, p.phase, p.rows, total, dt.datetime.fromtimestamp(p.at, dt.UTC))
        out.append(RunningImport(r["id"], display_name(name), t, r["started_at"], r["size_bytes"],
                                 p.phase if p else "", p.rows if p else 0, total,
                                 audit.now_iso(finish) if finish else None))
    return out
