"""The system store's item SQL: what the engine asks for ("find these identifications", "create these rows").

Callers say "find", "upsert", "delete", "links"; nothing outside ``aimport/store`` writes SQL against
the system store. Every function takes a :class:`~aimport.store.db.Db`, so the same SQL serves the
embedded SQLite store and a shared PostgreSQL server; where they differ (bulk loads, the staged rows of
a file) the :class:`Db` or the dialect decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aimport.itemtypes.catalog import CATALOG, Catalog
from aimport.itemtypes.schema import Field, ItemType
from aimport.store.db import Db

__all__ = ["count", "create_unmatched", "delete", "find_ids", "get_links", "get_rows", "idents_in", "insert",
           "insert_many", "iter_items", "ledger_get", "ledger_put", "matched", "ref_id", "ref_name", "ref_of",
           "referenced_by", "set_links", "update", "update_many"]


def idents_in(t: ItemType, pos: dict[str, int]) -> list[tuple[str, ...]]:
    """The type's identifications (other than Id) whose columns the staged sheet has."""
    return [ident for ident in t.identification if ident != ("Id",) and all(n in pos for n in ident)]


# --- ledger -----------------------------------------------------------------------------


def ledger_get(db: Db, import_key: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT sha256, status, error_code, stats FROM import_ledger WHERE import_key = ?", (import_key,)
    ).fetchone()
    if row is None:
        return None
    return {"sha256": row[0], "status": row[1], "error_code": row[2], "stats": json.loads(row[3])}


def ledger_put(
    db: Db, import_key: str, sha256: str, import_type: str, file_name: str,
    status: str, error_code: str | None, stats: dict[str, Any], commit: bool = False,
) -> None:
    """The ledger row; ``commit``: and COMMIT with it (together, in one round trip where the driver can)."""
    sql = ("INSERT INTO import_ledger (import_key, sha256, import_type, file_name, status, error_code, stats) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")
    params = (import_key, sha256, import_type, file_name, status, error_code, json.dumps(stats))
    if commit:
        db.commit_with(sql, params)
    else:
        db.execute(sql, params)


# --- items ------------------------------------------------------------------------------


def find_ids(db: Db, t: ItemType, ident: Sequence[str], keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    """Map identification values to ids for many keys at once."""
    keys = list(dict.fromkeys(keys))
    out: dict[tuple[Any, ...], int] = {}
    if not keys:
        return out
    cols = [("id" if n == "Id" else t.field(n).column) for n in ident]
    if len(cols) == 1:
        for i in range(0, len(keys), 500):
            chunk = [k[0] for k in keys[i : i + 500]]
            marks = ",".join("?" * len(chunk))
            for key, rid in db.execute(f"SELECT {cols[0]}, id FROM {t.table} WHERE {cols[0]} IN ({marks})", chunk):
                out.setdefault((key,), rid)
    else:
        where = " AND ".join(f"{c} = ?" for c in cols)
        for k in keys:
            row = db.execute(f"SELECT id FROM {t.table} WHERE {where} ORDER BY id LIMIT 1", k).fetchone()
            if row:
                out[k] = row[0]
    return out


def get_rows(db: Db, t: ItemType, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Current stored values (columns only) by id."""
    ids = list(ids)
    out: dict[int, dict[str, Any]] = {}
    names = [f.name for f in t.column_fields]
    cols = ", ".join(["id"] + [f.column for f in t.column_fields])
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {cols} FROM {t.table} WHERE id IN ({marks})", chunk):
            out[row[0]] = dict(zip(names, row[1:]))
    return out


def insert(db: Db, t: ItemType, values: dict[str, Any], by: str) -> int:
    fs = [f for f in t.column_fields if f.name in values]
    cols = ", ".join([f.column for f in fs] + ["created_by", "updated_by"])
    marks = ", ".join("?" * (len(fs) + 2))
    cur = db.execute(f"INSERT INTO {t.table} ({cols}) VALUES ({marks}) RETURNING id",
                     [values[f.name] for f in fs] + [by, by])
    return int(cur.fetchone()[0])


def insert_many(db: Db, t: ItemType, names: Sequence[str], rows: Iterable[Sequence[Any]], by: str) -> None:
    """Bulk create (no links); ``rows`` hold values in ``names`` order."""
    cols = [t.field(n).column for n in names] + ["created_by", "updated_by"]
    db.copy_rows(t.table, cols, ((*tuple(r), by, by) for r in rows))


def create_unmatched(db: Db, t: ItemType, names: Sequence[str], source: str,
                     skip: set[int], by: str) -> tuple[int, set[int]]:
    """Set-based create: insert every row of the staged ``source`` table that matches nothing.

    ``source`` has columns ``row_no, del, v0..vn`` in ``names`` order (no Id). Rows in ``skip``
    (rejected duplicates) are left out. Returns (rows created, row numbers that match an
    existing object or carry Delete=D and so need the row-by-row path).
    """
    full = matched(db, t, names, source, skip)
    cols = ", ".join(t.field(n).column for n in names)
    values = ", ".join(f"v{i}" for i in range(len(names)))
    cur = db.execute(
        f"INSERT INTO {t.table} ({cols}, created_by, updated_by) SELECT {values}, ?, ? FROM {source} "
        "WHERE row_no NOT IN (SELECT row_no FROM aimport_skip) ORDER BY row_no", (by, by))
    return cur.rowcount, full


def matched(db: Db, t: ItemType, names: Sequence[str], source: str, skip: set[int]) -> set[int]:
    """Fill ``aimport_skip`` with ``skip``, the Delete=D rows and the rows of ``source`` (``row_no, del`` and
    the identification columns ``v<i>``) that match a stored object; those row numbers but ``skip``."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS aimport_skip (row_no INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM aimport_skip")
    db.executemany("INSERT INTO aimport_skip VALUES (?) ON CONFLICT DO NOTHING", [(r,) for r in skip])
    db.execute(f"INSERT INTO aimport_skip SELECT row_no FROM {source} WHERE del = 1 ON CONFLICT DO NOTHING")
    return _match(db, t, names, source, "aimport_skip", skip)


def _match(db: Db, t: ItemType, names: Sequence[str], source: str, skips: str, skip: set[int]) -> set[int]:
    """Add to ``skips`` the rows of ``source`` that match a stored object; every row number in it but ``skip``."""
    pos = {n: i for i, n in enumerate(names)}
    for ident in idents_in(t, pos):
        on = " AND ".join(f"m.{t.field(n).column} = s.v{pos[n]}" for n in ident)
        db.execute(f"INSERT INTO {skips} SELECT s.row_no FROM {source} s "
                   f"JOIN {t.table} m ON {on} WHERE true ON CONFLICT DO NOTHING")
    return {r for (r,) in db.execute(f"SELECT row_no FROM {skips}")} - skip


def update(db: Db, t: ItemType, rid: int, values: dict[str, Any], by: str) -> None:
    fs = [f for f in t.column_fields if f.name in values]
    sets = ", ".join([f"{f.column} = ?" for f in fs] + ["updated_by = ?"])
    db.execute(f"UPDATE {t.table} SET {sets} WHERE id = ?", [values[f.name] for f in fs] + [by, rid])


def update_many(db: Db, t: ItemType, names: Sequence[str], rows: Sequence[Sequence[Any]], by: str) -> None:
    """The same columns ``names`` of many objects: ``rows`` hold their values in ``names`` order, then the id
    (PostgreSQL: sent in one pipeline, one round trip)."""
    sets = ", ".join([f"{t.field(n).column} = ?" for n in names] + ["updated_by = ?"])
    db.executemany(f"UPDATE {t.table} SET {sets} WHERE id = ?", [(*r[:-1], by, r[-1]) for r in rows])


def delete(db: Db, t: ItemType, rid: int) -> None:
    for f in t.link_fields:
        db.execute(f"DELETE FROM {t.link_table(f)} WHERE owner = ?", (rid,))
    db.execute(f"DELETE FROM {t.table} WHERE id = ?", (rid,))


def get_links(db: Db, t: ItemType, f: Field, rid: int) -> list[tuple[int, int | None]]:
    return [
        (r[0], r[1])
        for r in db.execute(f"SELECT target, level FROM {t.link_table(f)} WHERE owner = ? ORDER BY pos", (rid,))
    ]


def set_links(db: Db, t: ItemType, f: Field, rid: int, targets: Sequence[tuple[int, int | None]]) -> None:
    lt = t.link_table(f)
    db.execute(f"DELETE FROM {lt} WHERE owner = ?", (rid,))
    db.executemany(
        f"INSERT INTO {lt} (owner, target, level, pos) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (owner, target) DO UPDATE SET level = excluded.level, pos = excluded.pos",
        [(rid, tgt, lvl, i) for i, (tgt, lvl) in enumerate(targets)],
    )


def ref_id(db: Db, target: ItemType, name: str) -> int | None:
    col = target.field(target.ref_key).column
    row = db.execute(f"SELECT id FROM {target.table} WHERE {col} = ? ORDER BY id LIMIT 1", (name,)).fetchone()
    return row[0] if row else None


def ref_name(db: Db, target: ItemType, rid: int) -> str | None:
    col = target.field(target.ref_key).column
    row = db.execute(f"SELECT {col} FROM {target.table} WHERE id = ?", (rid,)).fetchone()
    return row[0] if row else None


def ref_of(db: Db, t: ItemType, f: Field, rid: int) -> int | None:
    """The id that object ``rid`` refers to through its single-reference field ``f``."""
    row = db.execute(f"SELECT {f.column} FROM {t.table} WHERE id = ?", (rid,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def referenced_by(db: Db, t: ItemType, rid: int, catalog: Catalog = CATALOG) -> list[str]:
    """Human descriptions of objects that still refer to ``t`` #``rid``."""
    users: list[str] = []
    for other in catalog.all():
        for f in other.data_fields:
            if f.ref != t.key:
                continue
            if f.is_link:
                sql = f"SELECT owner FROM {other.link_table(f)} WHERE target = ? LIMIT 3"
            else:
                sql = f"SELECT id FROM {other.table} WHERE {f.column} = ? LIMIT 3"
            for (oid,) in db.execute(sql, (rid,)):
                if other is t and oid == rid:
                    continue
                users.append(f"{other.label} {ref_name(db, other, oid)!s}")
    return users


def count(db: Db, t: ItemType) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {t.table}").fetchone()[0])


def iter_items(db: Db, t: ItemType) -> Iterator[dict[str, Any]]:
    """Every stored object with references as names (for exports), in id order."""
    fs = t.column_fields
    cols = ", ".join(["id"] + [f.column for f in fs])
    names: dict[str, dict[int, str | None]] = {}
    for row in db.execute(f"SELECT {cols} FROM {t.table} ORDER BY id").fetchall():
        item: dict[str, Any] = {"Id": row[0]}
        for f, v in zip(fs, row[1:]):
            if f.kind == "ref" and v is not None:
                cache = names.setdefault(f.ref or "", {})
                if v not in cache:
                    cache[v] = ref_name(db, CATALOG.by_key(f.ref or ""), v)
                v = cache[v]
            item[f.name] = v
        for f in t.link_fields:
            target = CATALOG.by_key(f.ref or "")
            cache = names.setdefault(target.key, {})  # names cached: one lookup per target, not per link
            links = [(cache[tid] if tid in cache else cache.setdefault(tid, ref_name(db, target, tid)), lvl)
                     for tid, lvl in get_links(db, t, f, row[0])]
            item[f.name] = ([[n, lvl] for n, lvl in links] if f.kind == "levels" else [n for n, _ in links]) or None
        for f in fs:
            if f.kind == "list":
                item[f.name] = json.loads(item[f.name]) if item.get(f.name) else None
        yield item
