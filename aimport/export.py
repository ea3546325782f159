"""Export configuration items from the store as a Configuration workbook (no internal Ids)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

from aimport import store
from aimport.itemtypes.catalog import CATALOG
from aimport.itemtypes.schema import ItemType, norm_header
from aimport.itemtypes.values import format_value
from aimport.sheetwriter import SheetWriter


def export_types(items: list[str] | None) -> list[ItemType]:
    """Configuration sheets to export, in dependency order; ``items`` by sheet, key or label."""
    types = CATALOG.config_types()
    if not items:
        return types
    wanted = {norm_header(i) for i in items}
    chosen = [t for t in types if wanted & {norm_header(x) for x in (t.sheet or "", t.key, t.label, t.table, t.key + "s")}]
    unknown = wanted - {norm_header(x) for t in chosen for x in (t.sheet or "", t.key, t.label, t.table, t.key + "s")}
    if unknown:
        raise ValueError(f"unknown item(s) {', '.join(sorted(unknown))}; choose from "
                         + ", ".join((t.sheet or "").lower() for t in types))
    return chosen


def headers(t: ItemType) -> list[str]:
    return [f.name for f in t.data_fields]


def rows(conn: sqlite3.Connection, t: ItemType) -> Iterator[list[Any]]:
    fields = t.data_fields
    for item in _ordered(conn, t):
        yield [_cell(f, item.get(f.name)) for f in fields]


def _cell(f: Any, value: Any) -> Any:
    if value is None:
        return None
    if f.kind == "int":
        return int(value)
    return format_value(f, value)


def _ordered(conn: sqlite3.Connection, t: ItemType) -> Iterator[dict[str, Any]]:
    """Items in id order; a self-referencing type lists parents before children."""
    self_refs = [f for f in t.data_fields if f.kind == "ref" and f.ref == t.key]
    if not self_refs:
        yield from store.iter_items(conn, t)
        return
    items = list(store.iter_items(conn, t))
    key = t.ref_key
    emitted: set[Any] = set()
    pending = items
    while pending:
        rest = []
        for it in pending:
            parents = [it.get(f.name) for f in self_refs]
            if all(p is None or p in emitted for p in parents):
                emitted.add(it.get(key))
                yield it
            else:
                rest.append(it)
        if len(rest) == len(pending):  # a cycle in stored data: emit as is
            yield from rest
            return
        pending = rest


def export_configuration(system_db: Path, out: Path, items: list[str] | None = None) -> dict[str, int]:
    """Write the workbook atomically; returns rows per sheet."""
    types = export_types(items)
    conn = store.open_store(system_db)
    writer = SheetWriter(out)
    counts: dict[str, int] = {}
    try:
        for t in types:
            counts[t.sheet or t.key] = writer.sheet(t.sheet or t.key, headers(t), rows(conn, t))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        conn.close()
    return counts
