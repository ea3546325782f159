"""The SQL a revert needs beyond the import's: whole rows as they are stored, put back under their own ids, and
the campaign of an OutboundCampaign import with its customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aimport.itemtypes.schema import ItemType
from aimport.store.db import Db

__all__ = ["campaign_has_results", "campaigns_by_id", "campaigns_created_by", "delete_campaign", "insert_row", "insert_rows",
           "item_name", "names_of", "rows_of", "snapshot", "whole_rows"]


def snapshot(db: Db, t: ItemType, rid: int) -> tuple[dict[str, Any], dict[str, list[list[Any]]]] | None:
    """The whole stored row of ``t`` #``rid`` (by column name, ``created_by``/``updated_by`` included) and its links
    (by field name: ``[[target id, level], ...]`` in order); None when there is no such row."""
    rows = whole_rows(db, t.table, "id", rid)
    if not rows:
        return None
    links = {f.name: [[r[0], r[1]] for r in db.execute(
        f"SELECT target, level FROM {t.link_table(f)} WHERE owner = ? ORDER BY pos", (rid,))] for f in t.link_fields}
    return rows[0], links


def whole_rows(db: Db, table: str, column: str, value: Any) -> list[dict[str, Any]]:
    """Every row of ``table`` whose ``column`` is ``value``, each as a dict by column name."""
    cur = db.execute(f"SELECT * FROM {table} WHERE {column} = ? ORDER BY id", (value,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def insert_row(db: Db, t: ItemType, row: dict[str, Any], links: dict[str, list[list[Any]]]) -> None:
    """Put a deleted item back: the whole row under its own id (ids are never handed out again), then its links."""
    insert_rows(db, t.table, [row])
    for f in t.link_fields:
        pairs = links.get(f.name) or []
        db.executemany(f"INSERT INTO {t.link_table(f)} (owner, target, level, pos) VALUES (?, ?, ?, ?)",
                       [(row["id"], tgt, lvl, i) for i, (tgt, lvl) in enumerate(pairs)])


def insert_rows(db: Db, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert whole rows (the columns of the first row) as they were read by :func:`whole_rows`."""
    if not rows:
        return
    cols = list(rows[0])
    db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                   [[r.get(c) for c in cols] for r in rows])
    if db.dialect == "postgresql" and "id" in cols:  # the identity must not hand these ids out again
        db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                   f"GREATEST((SELECT MAX(id) FROM {table}), nextval(pg_get_serial_sequence('{table}', 'id')) - 1))")


def rows_of(db: Db, t: ItemType, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The whole rows of these ids (by id)."""
    out: dict[int, dict[str, Any]] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        cur = db.execute(f"SELECT * FROM {t.table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        names = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = dict(zip(names, r))
            out[int(row["id"])] = row
    return out


def names_of(db: Db, t: ItemType, ids: Sequence[int]) -> dict[int, str]:
    """The names (``ref_key`` values) of these ids, by id (an id without a row is left out)."""
    col = t.field(t.ref_key).column
    out: dict[int, str] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for rid, name in db.execute(f"SELECT id, {col} FROM {t.table} WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            out[int(rid)] = "" if name is None else str(name)
    return out


def item_name(db: Db, t: ItemType, rid: int) -> str | None:
    return names_of(db, t, [rid]).get(rid)


def campaigns_created_by(db: Db, import_key: str) -> list[dict[str, Any]]:
    """The campaigns an OutboundCampaign import created (whole rows)."""
    return whole_rows(db, "campaigns", "created_by", import_key)


def campaigns_by_id(db: Db, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The campaigns with these ids that exist (whole rows)."""
    return [row for i in ids for row in whole_rows(db, "campaigns", "id", i)]


def campaign_has_results(db: Db, campaign_id: int) -> bool:
    """Whether any call of the campaign is recorded (a call attempt, an answer, a customer called)."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM customers c WHERE c.campaign_id = ? AND (c.number_of_calls > 0 OR EXISTS "
        "(SELECT 1 FROM call_attempts a WHERE a.customer_id = c.id) OR EXISTS "
        "(SELECT 1 FROM answers q WHERE q.customer_id = c.id)))", (campaign_id,)).fetchone()
    return bool(row[0])


def delete_campaign(db: Db, campaign_id: int) -> list[dict[str, Any]]:
    """Remove a campaign without call results and its customers; returns the customers' whole rows."""
    customers = whole_rows(db, "customers", "campaign_id", campaign_id)
    db.execute("DELETE FROM customers WHERE campaign_id = ?", (campaign_id,))
    db.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))
    return customers
