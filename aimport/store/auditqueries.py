"""Reading the audit trail (``audit.sqlite``) for the commands, the jobs view and the tests: read-only
connections and the queries operators run (recent imports, one import, events, hourly figures).

The service writes the trail through :class:`aimport.store.audit.Audit`; nothing here writes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ['HourTotals', 'connect_ro', 'count_finished', 'get_import', 'hourly_totals', 'import_key_of', 'last_change', 'list_events', 'list_imports']


def connect_ro(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no audit trail at {path} (has the service run with this --state-dir?)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
    conn.row_factory = sqlite3.Row
    return conn


def list_imports(path: Path, *, import_type: str | None = None, status: str | None = None,
                 since: str | None = None, file_name: str | None = None, failed: bool = False,
                 limit: int = 50, after_id: int = 0) -> list[dict[str, Any]]:
    where: list[str] = ["id > ?"]
    args: list[Any] = [after_id]
    if import_type:
        where.append("import_type = ?")
        args.append(import_type)
    if status:
        where.append("status = ?")
        args.append(status)
    if failed:
        where.append("status IN ('failed','partial')")
    if since:
        where.append("COALESCE(started_at, detected_at) >= ?")
        args.append(since)
    if file_name:
        where.append("(file_name LIKE ? OR history_name LIKE ?)")
        args += [f"%{file_name}%", f"%{file_name}%"]
    with connect_ro(path) as conn:
        rows = conn.execute(
            f"SELECT * FROM imports WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*args, limit)
        ).fetchall()
    return [dict(r) for r in reversed(rows)]


def get_import(path: Path, import_id: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    with connect_ro(path) as conn:
        row = conn.execute("SELECT * FROM imports WHERE id = ?", (import_id,)).fetchone()
        events = conn.execute("SELECT * FROM events WHERE import_id = ? ORDER BY id", (import_id,)).fetchall()
    return (dict(row) if row else None), [dict(e) for e in events]


def list_events(path: Path, *, after_id: int = 0, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    with connect_ro(path) as conn:
        sql = "SELECT * FROM events WHERE id > ?" + (" AND kind = ?" if kind else "") + " ORDER BY id LIMIT ?"
        args: tuple[Any, ...] = (after_id, kind, limit) if kind else (after_id, limit)
        return [dict(r) for r in conn.execute(sql, args).fetchall()]


# --- the jobs view (aimport.web.jobsdata) ------------------------------------------------------


@dataclass(frozen=True)
class HourTotals:
    """Imports finished in one hour: ``hour`` is ``YYYY-MM-DDTHH`` in UTC."""

    hour: str
    imports: int
    rows: int
    failed: int


def hourly_totals(path: Path, since: str) -> list[HourTotals]:
    """Imports and rows per hour, of imports finished at or after ``since`` (ISO UTC), oldest hour first."""
    with closing(connect_ro(path)) as conn:
        rows = conn.execute("SELECT substr(finished_at, 1, 13) AS hour, COUNT(*), COALESCE(SUM(rows), 0), "
                            "SUM(status = 'failed') FROM imports WHERE finished_at >= ? GROUP BY hour ORDER BY hour",
                            (since,)).fetchall()
    return [HourTotals(str(r[0]), int(r[1]), int(r[2]), int(r[3] or 0)) for r in rows]


def count_finished(path: Path, since: str, status: str) -> int:
    """Imports with ``status`` finished at or after ``since`` (ISO UTC)."""
    with closing(connect_ro(path)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM imports WHERE status = ? AND finished_at >= ?", (status, since)).fetchone()
    return int(row[0])


def last_change(path: Path) -> tuple[int, int]:
    """The highest event id and the number of open imports: what changes whenever the trail does."""
    with closing(connect_ro(path)) as conn:
        last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        open_ = conn.execute("SELECT COUNT(*) FROM imports WHERE status IN ('queued','in_process')").fetchone()[0]
    return int(last), int(open_)


def import_key_of(path: Path, import_id: int) -> str:
    """The key an import's work files are named by: its ``claimed`` event's key, else ``<trail uuid>-<id>``."""
    with closing(connect_ro(path)) as conn:
        row = conn.execute("SELECT json_extract(detail, '$.key') FROM events WHERE import_id = ? AND kind = 'claimed' "
                           "ORDER BY id DESC LIMIT 1", (import_id,)).fetchone()
        if row and row[0]:
            return str(row[0])
        try:
            meta = conn.execute("SELECT value FROM meta WHERE key = 'uuid'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            meta = None
    return f"{meta[0]}-{import_id}" if meta else ""
