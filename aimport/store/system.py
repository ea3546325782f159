"""The system store (system.sqlite): the contact-center stand-in; it owns all item SQL.

Callers say "find", "upsert", "delete", "links"; nothing outside this module
(and the campaign store) writes SQL against ``system.sqlite``. Another backend
replaces this module's functions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aimport import filelock
from aimport.itemtypes.catalog import CATALOG, Catalog
from aimport.itemtypes.schema import Field, ItemType

SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER", "ref": "INTEGER"}


def connect(path: Path) -> sqlite3.Connection:
    """Open the store (WAL, autocommit off is managed by explicit BEGIN)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        path.chmod(0o644)
    except OSError:
        pass
    return conn


def ensure_schema(conn: sqlite3.Connection, catalog: Catalog = CATALOG) -> None:
    stmts = [
        """CREATE TABLE IF NOT EXISTS import_ledger (
            import_key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, import_type TEXT NOT NULL,
            file_name TEXT NOT NULL, committed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            status TEXT NOT NULL, error_code TEXT, stats TEXT NOT NULL)""",
    ]
    for t in catalog.all():
        cols = ", ".join(f"{f.column} {SQL_TYPES.get(f.kind, 'TEXT')}" for f in t.column_fields)
        stmts.append(
            f"CREATE TABLE IF NOT EXISTS {t.table} (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols}, "
            "created_by TEXT, updated_by TEXT)"
        )
        for ident in t.identification:
            if ident == ("Id",):
                continue
            cols_i = ", ".join(t.field(n).column for n in ident)
            where = " AND ".join(f"{t.field(n).column} IS NOT NULL" for n in ident)
            unique = "UNIQUE " if all(t.field(n).mandatory for n in ident) else ""
            stmts.append(
                f"CREATE {unique}INDEX IF NOT EXISTS ix_{t.table}_{'_'.join(t.field(n).column for n in ident)} "
                f"ON {t.table} ({cols_i}) WHERE {where}"
            )
        for f in t.link_fields:
            lt = t.link_table(f)
            stmts.append(
                f"CREATE TABLE IF NOT EXISTS {lt} (owner INTEGER NOT NULL, target INTEGER NOT NULL, "
                "level INTEGER, pos INTEGER NOT NULL, PRIMARY KEY (owner, target))"
            )
            stmts.append(f"CREATE INDEX IF NOT EXISTS ix_{lt}_target ON {lt} (target)")
    for s in stmts:
        conn.execute(s)


@contextmanager
def write_turn(path: Path) -> Iterator[None]:
    """Wait for this process's turn to write a whole import (a blocking file lock next to the store).

    Imports queue here instead of in SQLite's busy handler, which polls with
    growing sleeps; the next import starts the moment the previous commits.
    """
    with filelock.turn(path.with_name(path.name + ".lock")):
        yield


def open_store(path: Path, catalog: Catalog = CATALOG) -> sqlite3.Connection:
    conn = connect(path)
    ensure_schema(conn, catalog)
    return conn


def defer_checkpoint(conn: sqlite3.Connection) -> None:
    """Commits on ``conn`` leave the WAL as it is (no automatic checkpoint inside COMMIT)."""
    conn.execute("PRAGMA wal_autocheckpoint=0")


def close_later(conn: sqlite3.Connection) -> None:
    """Checkpoint the WAL into the database and close ``conn`` in a background thread.

    A big import's COMMIT would otherwise copy the whole WAL (tens of MB) before
    returning; here that happens while the service archives the file. Durability is
    unchanged: the commit is in the WAL already, and a checkpoint is crash-safe.
    """
    import threading

    def run() -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the next connection's checkpoint catches up
        finally:
            conn.close()

    threading.Thread(target=run, name="checkpoint", daemon=True).start()


# --- ledger -----------------------------------------------------------------------------


def ledger_get(conn: sqlite3.Connection, import_key: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT sha256, status, error_code, stats FROM import_ledger WHERE import_key = ?", (import_key,)
    ).fetchone()
    if row is None:
        return None
    return {"sha256": row[0], "status": row[1], "error_code": row[2], "stats": json.loads(row[3])}


def ledger_put(
    conn: sqlite3.Connection, import_key: str, sha256: str, import_type: str, file_name: str,
    status: str, error_code: str | None, stats: dict[str, Any],
) -> None:
    conn.execute(
        "INSERT INTO import_ledger (import_key, sha256, import_type, file_name, status, error_code, stats) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (import_key, sha256, import_type, file_name, status, error_code, json.dumps(stats)),
    )


# --- items ------------------------------------------------------------------------------


def find_ids(conn: sqlite3.Connection, t: ItemType, ident: Sequence[str], keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
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
            for key, rid in conn.execute(f"SELECT {cols[0]}, id FROM {t.table} WHERE {cols[0]} IN ({marks})", chunk):
                out.setdefault((key,), rid)
    else:
        where = " AND ".join(f"{c} = ?" for c in cols)
        for k in keys:
            row = conn.execute(f"SELECT id FROM {t.table} WHERE {where} ORDER BY id LIMIT 1", k).fetchone()
            if row:
                out[k] = row[0]
    return out


def get_rows(conn: sqlite3.Connection, t: ItemType, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Current stored values (columns only) by id."""
    ids = list(ids)
    out: dict[int, dict[str, Any]] = {}
    names = [f.name for f in t.column_fields]
    cols = ", ".join(["id"] + [f.column for f in t.column_fields])
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {cols} FROM {t.table} WHERE id IN ({marks})", chunk):
            out[row[0]] = dict(zip(names, row[1:]))
    return out


def insert(conn: sqlite3.Connection, t: ItemType, values: dict[str, Any], by: str) -> int:
    fs = [f for f in t.column_fields if f.name in values]
    cols = ", ".join([f.column for f in fs] + ["created_by", "updated_by"])
    marks = ", ".join("?" * (len(fs) + 2))
    cur = conn.execute(f"INSERT INTO {t.table} ({cols}) VALUES ({marks})", [values[f.name] for f in fs] + [by, by])
    return int(cur.lastrowid or 0)


def insert_many(conn: sqlite3.Connection, t: ItemType, names: Sequence[str], rows: Iterable[Sequence[Any]], by: str) -> None:
    """Bulk create (no links); ``rows`` hold values in ``names`` order."""
    cols = ", ".join([t.field(n).column for n in names] + ["created_by", "updated_by"])
    marks = ", ".join("?" * (len(names) + 2))
    conn.executemany(f"INSERT INTO {t.table} ({cols}) VALUES ({marks})", ((*tuple(r), by, by) for r in rows))


def create_unmatched(conn: sqlite3.Connection, t: ItemType, names: Sequence[str], source: str,
                     skip: set[int], by: str) -> tuple[int, set[int]]:
    """Set-based create: insert every row of the staged ``source`` table that matches nothing.

    ``source`` has columns ``row_no, del, v0..vn`` in ``names`` order (no Id). Rows in ``skip``
    (rejected duplicates) are left out. Returns (rows created, row numbers that match an
    existing object or carry Delete=D and so need the row-by-row path).
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS aimport_skip (row_no INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.aimport_skip")
    conn.executemany("INSERT OR IGNORE INTO temp.aimport_skip VALUES (?)", [(r,) for r in skip])
    conn.execute(f"INSERT OR IGNORE INTO temp.aimport_skip SELECT row_no FROM {source} WHERE del = 1")
    pos = {n: i for i, n in enumerate(names)}
    for ident in t.identification:
        if ident == ("Id",) or not all(n in pos for n in ident):
            continue
        on = " AND ".join(f"m.{t.field(n).column} = s.v{pos[n]}" for n in ident)
        conn.execute(f"INSERT OR IGNORE INTO temp.aimport_skip SELECT s.row_no FROM {source} s "
                     f"JOIN main.{t.table} m ON {on}")
    full = {r for (r,) in conn.execute("SELECT row_no FROM temp.aimport_skip")} - skip
    cols = ", ".join(t.field(n).column for n in names)
    values = ", ".join(f"v{i}" for i in range(len(names)))
    cur = conn.execute(
        f"INSERT INTO main.{t.table} ({cols}, created_by, updated_by) SELECT {values}, ?, ? FROM {source} "
        "WHERE row_no NOT IN (SELECT row_no FROM temp.aimport_skip) ORDER BY row_no", (by, by))
    return cur.rowcount, full


def update(conn: sqlite3.Connection, t: ItemType, rid: int, values: dict[str, Any], by: str) -> None:
    fs = [f for f in t.column_fields if f.name in values]
    sets = ", ".join([f"{f.column} = ?" for f in fs] + ["updated_by = ?"])
    conn.execute(f"UPDATE {t.table} SET {sets} WHERE id = ?", [values[f.name] for f in fs] + [by, rid])


def delete(conn: sqlite3.Connection, t: ItemType, rid: int) -> None:
    for f in t.link_fields:
        conn.execute(f"DELETE FROM {t.link_table(f)} WHERE owner = ?", (rid,))
    conn.execute(f"DELETE FROM {t.table} WHERE id = ?", (rid,))


def get_links(conn: sqlite3.Connection, t: ItemType, f: Field, rid: int) -> list[tuple[int, int | None]]:
    return [
        (r[0], r[1])
        for r in conn.execute(f"SELECT target, level FROM {t.link_table(f)} WHERE owner = ? ORDER BY pos", (rid,))
    ]


def set_links(conn: sqlite3.Connection, t: ItemType, f: Field, rid: int, targets: Sequence[tuple[int, int | None]]) -> None:
    lt = t.link_table(f)
    conn.execute(f"DELETE FROM {lt} WHERE owner = ?", (rid,))
    conn.executemany(
        f"INSERT OR REPLACE INTO {lt} (owner, target, level, pos) VALUES (?, ?, ?, ?)",
        [(rid, tgt, lvl, i) for i, (tgt, lvl) in enumerate(targets)],
    )


def ref_id(conn: sqlite3.Connection, target: ItemType, name: str) -> int | None:
    col = target.field(target.ref_key).column
    row = conn.execute(f"SELECT id FROM {target.table} WHERE {col} = ? ORDER BY id LIMIT 1", (name,)).fetchone()
    return row[0] if row else None


def ref_name(conn: sqlite3.Connection, target: ItemType, rid: int) -> str | None:
    col = target.field(target.ref_key).column
    row = conn.execute(f"SELECT {col} FROM {target.table} WHERE id = ?", (rid,)).fetchone()
    return row[0] if row else None


def ref_of(conn: sqlite3.Connection, t: ItemType, f: Field, rid: int) -> int | None:
    """The id that object ``rid`` refers to through its single-reference field ``f``."""
    row = conn.execute(f"SELECT {f.column} FROM {t.table} WHERE id = ?", (rid,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def referenced_by(conn: sqlite3.Connection, t: ItemType, rid: int, catalog: Catalog = CATALOG) -> list[str]:
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
            for (oid,) in conn.execute(sql, (rid,)):
                if other is t and oid == rid:
                    continue
                users.append(f"{other.label} {ref_name(conn, other, oid)!s}")
    return users


def count(conn: sqlite3.Connection, t: ItemType) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {t.table}").fetchone()[0])


def iter_items(conn: sqlite3.Connection, t: ItemType) -> Iterator[dict[str, Any]]:
    """Every stored object with references as names (for exports), in id order."""
    fs = t.column_fields
    cols = ", ".join(["id"] + [f.column for f in fs])
    names: dict[str, dict[int, str | None]] = {}
    for row in conn.execute(f"SELECT {cols} FROM {t.table} ORDER BY id").fetchall():
        item: dict[str, Any] = {"Id": row[0]}
        for f, v in zip(fs, row[1:]):
            if f.kind == "ref" and v is not None:
                cache = names.setdefault(f.ref or "", {})
                if v not in cache:
                    cache[v] = ref_name(conn, CATALOG.by_key(f.ref or ""), v)
                v = cache[v]
            item[f.name] = v
        for f in t.link_fields:
            target = CATALOG.by_key(f.ref or "")
            cache = names.setdefault(target.key, {})  # names cached: one lookup per target, not per link
            links = [(cache[tid] if tid in cache else cache.setdefault(tid, ref_name(conn, target, tid)), lvl)
                     for tid, lvl in get_links(conn, t, f, row[0])]
            item[f.name] = ([[n, lvl] for n, lvl in links] if f.kind == "levels" else [n for n, _ in links]) or None
        for f in fs:
            if f.kind == "list":
                item[f.name] = json.loads(item[f.name]) if item.get(f.name) else None
        yield item
