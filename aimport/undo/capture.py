"""Before-images, collected while an import applies and written in its transaction (:mod:`aimport.store.changes`).

The engine calls :meth:`BeforeImages.updated` with the old values of only the fields it changes (it has them
already: the stored row it compared with, and the links it compared), :meth:`BeforeImages.deleted` before it
deletes, and :meth:`BeforeImages.flush` after each batch. A created item costs nothing: its ``created_by`` is
the import's key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aimport.itemtypes.schema import ItemType
from aimport.store import changes, restore
from aimport.store.db import Db

__all__ = ["ENABLED", "BeforeImages", "set_enabled"]

ENABLED = [True]  # scripts/bench measures the apply without before-images too (never turned off otherwise)


def set_enabled(on: bool) -> None:
    """For the benchmark only: the same apply with and without before-images."""
    ENABLED[0] = on


class BeforeImages:
    """One import's before-images: kept per (item type, action, fields) and written at each :meth:`flush`."""

    def __init__(self, db: Db, import_key: str) -> None:
        self.db = db
        self.key = import_key
        self.on = ENABLED[0]
        self._updated: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = defaultdict(list)
        self._deleted: dict[str, list[list[Any]]] = defaultdict(list)
        self._created: dict[str, list[int]] = defaultdict(list)

    def updated(self, t: ItemType, rid: int, current: Mapping[str, Any], columns: Iterable[str],
                old_links: Mapping[str, Sequence[tuple[int, int | None]]] | None = None) -> None:
        """``t`` #``rid`` is about to change: ``current`` is its stored row, ``columns`` the columns that change,
        ``old_links`` the stored links of the link fields that change (called once per updated row: kept lean)."""
        if not self.on:
            return
        if old_links:
            names = (*columns, *old_links)
            self._updated[(t.key, names)].append(
                [rid, *[current.get(n) for n in columns], *[[list(p) for p in v] for v in old_links.values()]])
        else:
            names = tuple(columns)
            self._updated[(t.key, names)].append([rid, *[current.get(n) for n in names]])

    def deleted(self, t: ItemType, rid: int) -> None:
        """``t`` #``rid`` is about to be deleted: its whole row and links are kept."""
        if not self.on:
            return
        snap = restore.snapshot(self.db, t, rid)
        if snap is not None:
            self._deleted[t.key].append([rid, snap[0], snap[1]])

    def deleted_row(self, item_type: str, rid: int, row: dict[str, Any], extra: dict[str, Any]) -> None:
        """A deletion whose whole row the caller read already (a campaign: ``extra`` holds its customers)."""
        self._deleted[item_type].append([rid, row, extra])

    def created(self, item_type: str, rid: int) -> None:
        """An item (of the type with key ``item_type``, or a ``campaign``) a revert put back (an import's creations
        are known from ``created_by``)."""
        self._created[item_type].append(rid)

    def flush(self) -> None:
        """Write what was collected (in the caller's transaction)."""
        for (item_type, names), data in self._updated.items():
            changes.put(self.db, self.key, item_type, "updated", names, data)
        for item_type, rows in self._deleted.items():
            changes.put(self.db, self.key, item_type, "deleted", None, rows)
        for item_type, ids in self._created.items():
            changes.put(self.db, self.key, item_type, "created", None, list(ids))
        self._updated.clear()
        self._deleted.clear()
        self._created.clear()
