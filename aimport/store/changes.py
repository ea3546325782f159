"""Before-images in the system store: what each import changed, written in the same transaction as its data.

One row of ``import_changes`` holds a batch of one import's changes to one item type with one action:

- ``updated``: ``fields`` names the changed fields; ``data`` is ``[[id, old value of each field], ...]``
  (a link field's old value is its ``[[target id, level], ...]``);
- ``deleted``: ``data`` is ``[[id, {column: value, ...}, {link field: [[target id, level], ...]}], ...]``
  (the whole row, ``created_by`` and ``updated_by`` included);
- ``created``: ``data`` is ``[id, ...]`` (only a revert writes these: an import's created items are the rows
  whose ``created_by`` is its key, so creating costs nothing here).

``import_reverts`` says which import a revert undid (its key, the revert's key). Rows older than
``revert_days`` are pruned (:func:`prune`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aimport.itemtypes.schema import ItemType
from aimport.store.db import Db

__all__ = ["SINCE_FACT", "ChangeBatch", "batches", "created_ids", "cutoff", "later_batches", "prune", "pruned", "put", "reverted_by",
           "set_reverted", "tables", "unset_reverted"]


SINCE_FACT = "before_images_since"  # store_facts: when this store began to keep before-images


def tables(ident: str, now: str) -> list[str]:
    """The statements that create the tables (``ident``: the id column, ``now``: the default time stamp)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS import_changes (
        {ident}, import_key TEXT NOT NULL, item_type TEXT NOT NULL, action TEXT NOT NULL,
        fields TEXT, data TEXT NOT NULL, at TEXT NOT NULL DEFAULT {now})""",
        "CREATE INDEX IF NOT EXISTS ix_import_changes_key ON import_changes (import_key)",
        f"""CREATE TABLE IF NOT EXISTS import_reverts (
        import_key TEXT PRIMARY KEY, revert_key TEXT NOT NULL, at TEXT NOT NULL DEFAULT {now})""",
        # imports committed before this (a store made by an older aimport) left no before-images
        f"INSERT INTO store_facts (name, value) VALUES ('{SINCE_FACT}', {now}) ON CONFLICT (name) DO NOTHING",
    ]


@dataclass(frozen=True)
class ChangeBatch:
    """One stored batch: its row id (the order of changes across imports), import, item type, action and entries."""

    seq: int
    import_key: str
    item_type: str
    action: str
    fields: tuple[str, ...]
    data: list[Any]


def put(db: Db, import_key: str, item_type: str, action: str, fields: Sequence[str] | None, data: list[Any]) -> None:
    """Store one batch (``data`` as described in the module's docstring)."""
    db.execute("INSERT INTO import_changes (import_key, item_type, action, fields, data) VALUES (?, ?, ?, ?, ?)",
               (import_key, item_type, action, None if fields is None else json.dumps(list(fields)),
                json.dumps(data, separators=(",", ":"), ensure_ascii=False)))


def _batch(row: Sequence[Any]) -> ChangeBatch:
    return ChangeBatch(int(row[0]), row[1], row[2], row[3], tuple(json.loads(row[4]) if row[4] else ()),
                       json.loads(row[5]))


def batches(db: Db, import_key: str) -> list[ChangeBatch]:
    """Every batch of one import, in the order it was written."""
    return [_batch(r) for r in db.execute(
        "SELECT id, import_key, item_type, action, fields, data FROM import_changes WHERE import_key = ? ORDER BY id",
        (import_key,))]


def later_batches(db: Db, after: int, item_types: Iterable[str], other_than: str) -> list[ChangeBatch]:
    """Batches of other imports written after batch ``after`` (0: all) that touch these item types."""
    types = sorted(set(item_types))
    if not types:
        return []
    marks = ",".join("?" * len(types))
    return [_batch(r) for r in db.execute(
        "SELECT id, import_key, item_type, action, fields, data FROM import_changes "
        f"WHERE id > ? AND import_key != ? AND item_type IN ({marks}) ORDER BY id", (after, other_than, *types))]


def reverted_by(db: Db, import_key: str) -> str | None:
    """The key of the revert that undid this import (None: not reverted, or its revert was itself reverted)."""
    row = db.execute("SELECT revert_key FROM import_reverts WHERE import_key = ?", (import_key,)).fetchone()
    return str(row[0]) if row else None


def set_reverted(db: Db, import_key: str, revert_key: str) -> None:
    db.execute("INSERT INTO import_reverts (import_key, revert_key) VALUES (?, ?) "
               "ON CONFLICT (import_key) DO UPDATE SET revert_key = excluded.revert_key", (import_key, revert_key))


def unset_reverted(db: Db, revert_key: str) -> None:
    """A revert that is itself reverted: the import it undid counts as applied again."""
    db.execute("DELETE FROM import_reverts WHERE revert_key = ?", (revert_key,))


def cutoff(days: int, now: dt.datetime | None = None) -> str:
    """The commit time (as the ledger writes it) before which an import's before-images are pruned."""
    at = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def pruned(db: Db, import_key: str, days: int, now: dt.datetime | None = None) -> bool:
    """Whether the import's before-images are not (all) kept: it committed more than ``days`` ago (they are gone,
    or about to go), or before the store kept any (a store upgraded from an older aimport)."""
    row = db.execute("SELECT committed_at FROM import_ledger WHERE import_key = ?", (import_key,)).fetchone()
    if row is None:
        return False
    since = db.execute("SELECT value FROM store_facts WHERE name = ?", (SINCE_FACT,)).fetchone()
    return str(row[0]) < cutoff(days, now) or (since is not None and str(row[0]) < str(since[0]))


def prune(db: Db, days: int, now: dt.datetime | None = None) -> int:
    """Delete the before-images of imports committed more than ``days`` ago (in the caller's transaction; by the
    ledger's commit time, so an import keeps all of them or none); returns the batches deleted."""
    stamp = cutoff(days, now)
    cur = db.execute("DELETE FROM import_changes WHERE import_key IN "
                     "(SELECT import_key FROM import_ledger WHERE committed_at < ?)", (stamp,))
    db.execute("DELETE FROM import_reverts WHERE at < ?", (stamp,))
    return int(cur.rowcount or 0)


def created_ids(db: Db, t: ItemType, import_key: str) -> list[int]:
    """The ids of the items an import created (their ``created_by``), in id order."""
    return [int(r[0]) for r in db.execute(f"SELECT id FROM {t.table} WHERE created_by = ? ORDER BY id", (import_key,))]
