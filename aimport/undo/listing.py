"""What an import changed, item by item: created, deleted, or ``Field: old -> new`` (``aimport changes``,
``aimport check --diff``, the jobs view's import page).

The old values are the import's before-images; the new value of a field is the old value the next import
that changed the same field kept, or the stored value when none has changed it since.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from aimport.itemtypes.catalog import CATALOG, Catalog
from aimport.itemtypes.schema import Field, ItemType
from aimport.store import changes, restore
from aimport.store import system as store
from aimport.store.db import Db

__all__ = ["ItemChange", "RefNames", "import_changes", "show_value"]


@dataclass(frozen=True)
class ItemChange:
    """One line of an import's changes: an item created or deleted, or one of its fields changed."""

    item_type: str  # the item type's label (user, queue, campaign ...)
    item: str  # its name (Login, Name ...), or #id
    item_id: int
    action: str  # created | updated | deleted
    field: str = ""
    old: str = ""
    new: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RefNames:
    """Names of referenced items, looked up once per item."""

    def __init__(self, db: Db, catalog: Catalog) -> None:
        self.db, self.catalog = db, catalog
        self._cache: dict[tuple[str, int], str] = {}

    def of(self, t: ItemType, rid: int) -> str:
        key = (t.key, rid)
        if key not in self._cache:
            self._cache[key] = restore.item_name(self.db, t, rid) or f"#{rid}"
        return self._cache[key]

    def many(self, t: ItemType, ids: list[int]) -> None:
        missing = [i for i in ids if (t.key, i) not in self._cache]
        for rid, name in restore.names_of(self.db, t, missing).items():
            self._cache[(t.key, rid)] = name


def show_value(names: RefNames, f: Field, value: Any) -> str:
    """A stored value as a file would hold it (names for ids, ``;``-separated lists)."""
    if value is None:
        return ""
    if f.kind == "ref":
        return names.of(names.catalog.by_key(f.ref or ""), int(value))
    if f.kind in ("refs", "levels"):
        target = names.catalog.by_key(f.ref or "")
        if f.kind == "refs":
            return "; ".join(names.of(target, int(p[0])) for p in value)
        return "; ".join(f"{names.of(target, int(p[0]))}:{p[1]}" for p in value)
    if f.kind == "list":
        items = json.loads(value) if isinstance(value, str) else value
        return "; ".join(str(x) for x in items or ())
    return str(value)


def import_changes(db: Db, import_key: str, catalog: Catalog = CATALOG) -> list[ItemChange]:
    """Every change the import ``import_key`` made, per item type (in dependency order): created, updated, deleted."""
    names = RefNames(db, catalog)
    batches = changes.batches(db, import_key)
    out: list[ItemChange] = []
    for c in restore.campaigns_created_by(db, import_key):
        out.append(ItemChange("campaign", str(c["name"]), int(c["id"]), "created", new=f"status {c['status']}"))
    later = _later_values(db, batches, import_key, catalog)
    for t in catalog.all():
        mine = [b for b in batches if b.item_type == t.key]
        created = changes.created_ids(db, t, import_key) + [i for b in mine if b.action == "created" for i in b.data]
        names.many(t, created)
        out += sorted((ItemChange(t.label, names.of(t, i), i, "created") for i in dict.fromkeys(created)),
                      key=lambda c: (c.item, c.item_id))
        out += _updates(db, t, [b for b in mine if b.action == "updated"], later, names)
        for b in mine:
            if b.action == "deleted":
                for rid, row, _links in b.data:
                    name = row.get(t.field(t.ref_key).column)
                    out.append(ItemChange(t.label, f"#{rid}" if name is None else str(name), int(rid), "deleted"))
    for b in batches:
        if b.item_type == "campaign" and b.action == "created":  # put back by a revert
            for c in restore.campaigns_by_id(db, [int(i) for i in b.data]):
                out.append(ItemChange("campaign", str(c["name"]), int(c["id"]), "created", new=f"status {c['status']}"))
        if b.item_type == "campaign" and b.action == "deleted":
            for rid, row, extra in b.data:
                out.append(ItemChange("campaign", str(row.get("name")), int(rid), "deleted",
                                  new=f"{len(extra.get('customers', []))} customers"))
    return out


def _updates(db: Db, t: ItemType, mine: list[changes.ChangeBatch], later: dict[tuple[str, int, str], Any],
             names: RefNames) -> list[ItemChange]:
    """One line per changed field (a field changed twice by the same import: its first old value, its last new)."""
    first: dict[tuple[int, str], Any] = {}
    for b in mine:
        for entry in b.data:
            for n, old in zip(b.fields, entry[1:]):
                first.setdefault((int(entry[0]), n), old)
    if not first:
        return []
    ids = sorted({rid for rid, _ in first})
    names.many(t, ids)
    current = store.get_rows(db, t, ids)
    lines = []
    for (rid, n), old in first.items():
        f = t.field(n)
        if (t.key, rid, n) in later:
            new = later[(t.key, rid, n)]
        elif f.is_link:
            new = [list(p) for p in store.get_links(db, t, f, rid)] if rid in current else None
        else:
            new = current.get(rid, {}).get(n)
        lines.append(ItemChange(t.label, names.of(t, rid), rid, "updated", n, show_value(names, f, old),
                            show_value(names, f, new)))
    return sorted(lines, key=lambda c: (c.item, c.item_id, [f.name for f in t.fields].index(c.field)))


def _later_values(db: Db, batches: list[changes.ChangeBatch], import_key: str,
                  catalog: Catalog) -> dict[tuple[str, int, str], Any]:
    """(item type, id, field) -> the value the next import changed it from (it is what this import left)."""
    updated = [b for b in batches if b.action == "updated"]
    if not updated:
        return {}
    out: dict[tuple[str, int, str], Any] = {}
    for b in changes.later_batches(db, updated[0].seq, {b.item_type for b in updated}, import_key):
        if b.action == "updated":
            for entry in b.data:
                for n, old in zip(b.fields, entry[1:]):
                    out.setdefault((b.item_type, int(entry[0]), n), old)
        elif b.action == "deleted" and b.item_type != "campaign":
            t = catalog.by_key(b.item_type)
            for rid, row, links in b.data:
                for f in t.data_fields:
                    value = links.get(f.name) if f.is_link else row.get(f.column)
                    out.setdefault((b.item_type, int(rid), f.name), value)
    return out
