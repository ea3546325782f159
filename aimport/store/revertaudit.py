"""The audit trail's side of a revert: ``reverted_by`` on the reverted import's row, and the reverts of an import
that were interrupted (their rows still ``in_process``). Short synchronous writes next to :class:`Audit`'s."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from aimport.store.auditqueries import connect_ro

__all__ = ["REVERT_PREFIX", "interrupted_reverts", "revert_name", "set_reverted_by"]

REVERT_PREFIX = "revert_of_"


def revert_name(import_id: int, file_name: str) -> str:
    """The file name a revert is recorded under: ``revert_of_<ID>_<file>``."""
    return f"{REVERT_PREFIX}{import_id}_{file_name}"


def set_reverted_by(path: Path, import_id: int, revert_id: int | None) -> None:
    """Set (or clear, with None) ``reverted_by`` of import ``import_id`` (the column is added to an older trail)."""
    with closing(sqlite3.connect(path, timeout=30.0)) as conn:
        if "reverted_by" not in {r[1] for r in conn.execute("PRAGMA table_info(imports)")}:
            conn.execute("ALTER TABLE imports ADD COLUMN reverted_by INTEGER")
        conn.execute("UPDATE imports SET reverted_by = ? WHERE id = ?", (revert_id, import_id))
        conn.commit()


def interrupted_reverts(path: Path, import_id: int) -> list[dict[str, Any]]:
    """Reverts of import ``import_id`` whose rows are still open (the process was killed before it recorded them)."""
    with closing(connect_ro(path)) as conn:
        rows = conn.execute("SELECT * FROM imports WHERE status IN ('queued','in_process') AND file_name LIKE ? "
                            "ESCAPE '\\' ORDER BY id", (revert_name(import_id, "").replace("_", "\\_") + "%",)).fetchall()
    return [dict(r) for r in rows]
