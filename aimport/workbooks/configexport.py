"""Export configuration items from the store as a workbook the importer reads back (no internal Ids).

By default the Configuration workbook (Calendars, Skills, PresenceProfiles, Scripts, Queues, Users).
A type that is not in the Configuration workbook (user groups, directory entries, blocked numbers)
is exported on its own, as a one-sheet workbook for that type's drop folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import Field, ItemType, norm_header
from aimport.itemtypes.values import format_value
from aimport.store import system as store
from aimport.store.db import Db, StoreAddress
from aimport.store.schema import open_store
from aimport.workbooks.sheetwriter import SheetWriter

__all__ = ["export_configuration", "export_types", "exportable", "headers", "phone_columns", "rows"]


def _names(t: ItemType) -> set[str]:
    words = (t.sheet or "", t.folder or "", t.key, t.key + "s", t.label, t.label + "s", t.table)
    return {norm_header(w) for w in words if w}


def exportable() -> list[ItemType]:
    """Every item type with a sheet: the Configuration ones first, in dependency order."""
    config = CATALOG.config_types()
    return config + [t for t in CATALOG.all() if t not in config and t.sheet]


def export_types(items: list[str] | None) -> list[ItemType]:
    """The sheets to write, in dependency order; ``items`` by sheet, folder, key or label (any case)."""
    config = CATALOG.config_types()
    if not items:
        return config
    chosen: list[ItemType] = []
    for item in items:
        match = [t for t in exportable() if norm_header(item) in _names(t)]
        if not match:
            raise ValueError(f"unknown item {item!r}; choose from "
                             + ", ".join((t.sheet or t.key).lower() for t in exportable()))
        if match[0] not in chosen:
            chosen.append(match[0])
    others = [t for t in chosen if t not in config]
    if others and len(chosen) > 1:
        raise ValueError(
            f"{', '.join((t.sheet or t.key).lower() for t in others)} cannot share a workbook with other items: "
            f"a {others[0].folder} file holds one sheet (export it on its own, e.g. --items "
            f"{(others[0].sheet or others[0].key).lower()}, and drop it into the {others[0].folder} folder)")
    return [t for t in exportable() if t in chosen]


def headers(t: ItemType) -> list[str]:
    """The importer's column names for ``t``, without the internal Id."""
    return [f.name for f in t.data_fields]


def phone_columns(t: ItemType) -> set[int]:
    """The 0-based columns of :func:`headers` that hold phone numbers: written as Text cells, as stored."""
    return {i for i, f in enumerate(t.data_fields) if f.kind == "phone"}


def rows(conn: Db, t: ItemType) -> Iterator[list[Any]]:
    fields = t.data_fields
    for item in _ordered(conn, t):
        yield [_cell(f, item.get(f.name)) for f in fields]


def _cell(f: Field, value: Any) -> Any:
    if value is None or value == [] or value == "":
        return None
    if f.kind == "int":
        return int(value)  # a number cell; everything else is written as text
    return format_value(f, value)


def _ordered(conn: Db, t: ItemType) -> Iterator[dict[str, Any]]:
    """Items in id order; a self-referencing type (user groups) lists parents before children."""
    self_refs = [f for f in t.data_fields if f.kind == "ref" and f.ref == t.key]
    if not self_refs:
        yield from store.iter_items(conn, t)
        return
    pending = list(store.iter_items(conn, t))
    emitted: set[Any] = set()
    while pending:
        rest = []
        for it in pending:
            if all(it.get(f.name) is None or it.get(f.name) in emitted for f in self_refs):
                emitted.add(it.get(t.ref_key))
                yield it
            else:
                rest.append(it)
        if len(rest) == len(pending):  # a cycle in stored data (the importer never makes one): emit as is
            yield from rest
            return
        pending = rest


def export_configuration(store_address: StoreAddress, out: Path, items: list[str] | None = None) -> dict[str, int]:
    """Write the workbook atomically (temp file + rename) from one snapshot of the store; rows per sheet."""
    types = export_types(items)
    with open_store(store_address) as db:
        writer = SheetWriter(out)
        counts: dict[str, int] = {}
        try:
            db.begin()  # one read snapshot, even while the service imports
            for t in types:
                name = t.sheet or t.key
                counts[name] = writer.sheet(name, headers(t), rows(db, t), phone_columns(t))
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return counts
