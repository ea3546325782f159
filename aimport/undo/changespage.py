"""One page of what an import changed, for ``aimport changes`` and the jobs view (``/api/imports/<id>/changes``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimport.store import auditqueries, changes
from aimport.store import system as store
from aimport.store.db import StoreAddress
from aimport.store.schema import open_store
from aimport.undo.listing import ItemChange, import_changes

__all__ = ["ChangesPage", "NoSuchImport", "changes_page"]


class NoSuchImport(LookupError):
    """No import with that id in the audit trail."""


@dataclass(frozen=True)
class ChangesPage:
    import_id: int
    total: int
    offset: int
    limit: int
    changes: list[ItemChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why the list is empty, or that the import was reverted

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "total": self.total, "offset": self.offset, "limit": self.limit,
                "changes": [c.as_dict() for c in self.changes], "notes": self.notes}


def changes_page(audit_db: Path, store_address: StoreAddress, import_id: int, offset: int = 0,
                 limit: int = 100, revert_days: int = 30) -> ChangesPage:
    """Changes ``offset`` .. ``offset + limit`` of import ``import_id`` (``limit`` 0: all of them)."""
    row, _ = auditqueries.get_import(audit_db, import_id)
    if row is None:
        raise NoSuchImport(f"no import with id {import_id} in the audit trail")
    key = auditqueries.import_key_of(audit_db, import_id)
    notes: list[str] = []
    with open_store(store_address) as db:
        db.begin()
        try:
            gone = changes.pruned(db, key, revert_days)
            every = [] if gone else import_changes(db, key)
            ledger = store.ledger_get(db, key)
            reverted = changes.reverted_by(db, key)
        finally:
            db.rollback()
    if row["status"] in ("queued", "in_process"):
        notes.append(f"import {import_id} is still {row['status']}")
    elif ledger is None or row["status"] == "failed":
        notes.append(f"import {import_id} applied nothing ({row['status']})")
    elif gone:
        notes.append(f"what import {import_id} changed is not kept: it committed more than revert_days "
                     f"({revert_days}) ago, or before this store kept before-images")
    elif not every:
        notes.append(f"no change of import {import_id} is kept: it changed nothing, or its before-images were pruned "
                     "(they are kept for revert_days)")
    if reverted:
        notes.append(f"reverted by {_import_of(reverted)}")
    if row.get("reverted_by"):
        notes = [n for n in notes if not n.startswith("reverted by")] + [f"reverted by import {row['reverted_by']}"]
    page = every[offset:offset + limit] if limit else every[offset:]
    return ChangesPage(import_id, len(every), offset, limit, page, notes)


def _import_of(key: str) -> str:
    """``import 42`` for the key ``<trail uuid>-42``."""
    tail = key.rpartition("-")[2]
    return f"import {tail}" if tail.isdigit() else key
