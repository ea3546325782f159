"""The staged rows of one file next to the store's tables: how the engine's set-based create reaches them.

SQLite attaches the worker's scratch file (:func:`attach_stage`); PostgreSQL gets them by ``COPY`` into
temporary tables the connection keeps, filled before the write turn (:func:`stage_plain`), so that under the
turn only the matching and one ``INSERT ... SELECT`` run (:func:`create_plain`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from aimport.itemtypes.schema import ItemType
from aimport.store.db import Db
from aimport.store.system import create_unmatched, idents_in, matched

__all__ = ["SCRATCH_DELETE_MAX", "attach_stage", "create_plain", "stage_plain"]

_SQL_TYPES = {"int": "BIGINT", "bool": "INTEGER", "ref": "BIGINT"}
SCRATCH_DELETE_MAX = 5000  # staged rows a connection's temporary tables took since their last TRUNCATE


def attach_stage(db: Db, scratch: Path) -> None:
    """Make the worker's scratch database readable from ``db`` (SQLite: ATTACH, before the transaction)."""
    if db.dialect == "sqlite":
        db.execute("ATTACH DATABASE ? AS stage", (str(scratch),))
        db.execute("PRAGMA stage.cache_size = -256")  # read once, in order: 256 KB of cache do (2 MB less at the peak)


def stage_plain(db: Db, t: ItemType, names: Sequence[str], table: str,
                rows: Callable[[Sequence[str] | None], Iterable[Sequence[Any]]], skip: set[int]) -> str | None:
    """PostgreSQL, before the write turn: every staged row of ``table`` by ``COPY`` into a temporary table (and
    ``skip`` and the Delete=D rows into its skip table), in the open write transaction (begun here); its name,
    for :func:`create_plain`. SQLite: None (it reads the attached scratch file under the turn)."""
    if db.dialect == "sqlite":
        return None
    types = [_SQL_TYPES.get(t.field(n).kind, "TEXT") for n in names]
    # kept by the connection from one import to the next (creating and dropping two tables per import costs
    # more than the apply of a small file), and emptied here, before the turn: ON COMMIT DELETE ROWS would
    # truncate them and rebuild their indexes inside every COMMIT, under the turn (about 1 ms, most of a small
    # file's hold). A few thousand rows are deleted; more are truncated (a temporary table is never vacuumed:
    # the dead rows must not pile up). A ROLLBACK leaves them as they were before the transaction.
    name = f"aimport_{table}_{''.join(x[0] for x in types).lower()}_k"
    cols = "".join(f", v{i} {x}" for i, x in enumerate(types))
    if not db.in_transaction:
        db.begin_write()
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (row_no BIGINT PRIMARY KEY, del INTEGER{cols})")
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name}_skip (row_no BIGINT PRIMARY KEY)")
    if db.scratch_rows.get(name, 0) > SCRATCH_DELETE_MAX:
        db.execute(f"TRUNCATE {name}, {name}_skip")
        db.scratch_rows[name] = 0
    else:
        db.execute(f"DELETE FROM {name}")
        db.execute(f"DELETE FROM {name}_skip")
    copied = 0

    def counted(it: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        nonlocal copied
        for r in it:
            copied += 1
            yield r

    db.copy_rows(name, ["row_no", "del", *(f"v{i}" for i in range(len(names)))], counted(rows(None)))
    db.copy_rows(f"{name}_skip", ["row_no"], counted((r,) for r in sorted(skip)))
    db.scratch_rows[name] = db.scratch_rows.get(name, 0) + copied  # rows (dead or not) since the last TRUNCATE
    db.execute(f"INSERT INTO {name}_skip SELECT row_no FROM {name} WHERE del = 1 ON CONFLICT DO NOTHING")
    # the match looks each row up in the item table's index: its cost follows the sheet, not the table (a
    # hash join reads the whole item table, a merge join most of its index); and it is not worth compiling
    db.execute("SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), "
               "set_config('jit', 'off', true)")
    return name


def create_plain(db: Db, t: ItemType, names: Sequence[str], table: str,
                 rows: Callable[[Sequence[str] | None], Iterable[Sequence[Any]]], skip: set[int],
                 by: str, staged: str | None = None) -> tuple[int, set[int]]:
    """Set-based create of every staged row that matches nothing (see :func:`create_unmatched`).

    ``staged``: the temporary table :func:`stage_plain` filled before the turn (PostgreSQL): under the turn
    only the matching and one ``INSERT ... SELECT`` run.

    ``table`` is the staged table in the worker's scratch file (``row_no, del, v0..vn`` in ``names`` order)
    and ``rows(columns)`` reads it again (all columns, or only the named ones), in row order. SQLite reads
    the attached scratch file itself. PostgreSQL gets only the identification columns by ``COPY`` into a
    temporary table to find the rows that match, then the other rows by one ``COPY`` straight into the item
    table (each row crosses to the server once).
    """
    if db.dialect == "sqlite":
        return create_unmatched(db, t, names, f"stage.{table}", skip, by)
    if staged is not None:  # one statement: match, create the rest, and say which rows matched or were left out
        pos = {n: i for i, n in enumerate(names)}
        match = " OR ".join(
            f"EXISTS (SELECT 1 FROM {t.table} m WHERE "
            + " AND ".join(f"m.{t.field(n).column} = s.v{pos[n]}" for n in ident) + ")"
            for ident in idents_in(t, pos)) or "false"
        cols = ", ".join(t.field(n).column for n in names)
        values = ", ".join(f"s.v{i}" for i in range(len(names)))
        left = f"NOT EXISTS (SELECT 1 FROM {staged}_skip k WHERE k.row_no = s.row_no)"
        created, found = db.execute(
            f"WITH matched AS MATERIALIZED (SELECT s.row_no FROM {staged} s WHERE {left} AND ({match})), "
            f"made AS (INSERT INTO {t.table} ({cols}, created_by, updated_by) SELECT {values}, ?::text, ?::text "
            f"FROM {staged} s WHERE {left} AND s.row_no NOT IN (SELECT row_no FROM matched) ORDER BY s.row_no "
            f"RETURNING 1) SELECT (SELECT COUNT(*) FROM made), "
            f"ARRAY(SELECT row_no FROM matched UNION ALL SELECT row_no FROM {staged}_skip)", (by, by)).fetchone()
        return int(created), {int(r) for r in found} - skip
    pos = {n: i for i, n in enumerate(names)}
    keys = sorted({pos[n] for ident in idents_in(t, pos) for n in ident})
    name = f"aimport_{table}_keys"
    cols = "".join(f", v{i} {_SQL_TYPES.get(t.field(names[i]).kind, 'TEXT')}" for i in keys)
    db.execute(f"CREATE TEMP TABLE {name} (row_no BIGINT, del INTEGER{cols}) ON COMMIT DROP")
    key_columns = ["row_no", "del", *(f"v{i}" for i in keys)]
    db.copy_rows(name, key_columns, rows(key_columns))
    # the match looks each row up in the item table's index: its cost follows the sheet, not the table (a
    # hash join reads the whole item table, a merge join most of its index); and it is not worth compiling
    planner = ("enable_hashjoin", "enable_mergejoin", "jit")
    for setting in planner:
        db.execute(f"SET LOCAL {setting} = off")
    full = matched(db, t, names, name, skip)
    for setting in planner:
        db.execute(f"SET LOCAL {setting} TO DEFAULT")
    leave = full | skip
    created = 0

    def unmatched() -> Iterator[tuple[Any, ...]]:
        nonlocal created
        for r in rows(None):
            if r[0] not in leave:
                created += 1
                yield (*r[2:], by, by)

    db.copy_rows(t.table, [*(t.field(n).column for n in names), "created_by", "updated_by"], unmatched())
    return created, full
