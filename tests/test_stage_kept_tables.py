"""The temporary tables a PostgreSQL connection stages a file's rows in are kept from one import to the next
(aimport.store.stagedrows.stage_plain): emptied before the write turn, not in the COMMIT under it. An import on the
same connection never sees the rows of the one before it, committed or rolled back, and a table that took many
rows is truncated (a temporary table is never vacuumed: its dead rows must not pile up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aimport.itemtypes.catalog import ALL_TYPES
from aimport.store import stagedrows
from aimport.store.connect import open_db
from aimport.store.schema import ensure_schema

SKILL = next(t for t in ALL_TYPES if t.key == "skill")
NAMES = ["Name", "Description"]


def _rows(rows: list[tuple[Any, ...]]) -> Any:
    return lambda columns=None: iter(rows)


def _create(db: Any, rows: list[tuple[Any, ...]], by: str) -> tuple[int, set[int]]:
    staged = stagedrows.stage_plain(db, SKILL, NAMES, "s1_tt", _rows(rows), set())
    assert staged is not None
    return stagedrows.create_plain(db, SKILL, NAMES, "s1_tt", _rows(rows), set(), by, staged)


def _skills(db: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute("SELECT name, description, created_by FROM skills ORDER BY name").fetchall()]


def test_each_import_sees_only_its_own_staged_rows(pg_url: str) -> None:
    with open_db(pg_url) as db:
        ensure_schema(db)
        assert _create(db, [(1, 0, "a", "A"), (2, 0, "b", "B")], "one") == (2, set())
        db.commit()
        # the next import on the connection: the rows of the one before are gone, its own row 1 matches
        assert _create(db, [(1, 0, "a", "A2"), (2, 0, "c", "C")], "two") == (1, {1})
        db.rollback()
        # after a rollback too: only this import's rows
        assert _create(db, [(1, 0, "d", "D")], "three") == (1, set())
        db.commit()
        assert _skills(db) == [("a", "A", "one"), ("b", "B", "one"), ("d", "D", "three")]


def test_a_table_that_took_many_rows_is_truncated(pg_url: str) -> None:
    many: Sequence[tuple[Any, ...]] = [(i, 0, f"n{i:05}", "x") for i in range(1, stagedrows.SCRATCH_DELETE_MAX + 2)]
    with open_db(pg_url) as db:
        ensure_schema(db)
        assert _create(db, list(many), "big")[0] == len(many)
        db.commit()
        assert sum(db.scratch_rows.values()) > stagedrows.SCRATCH_DELETE_MAX
        assert _create(db, [(1, 0, "zz", "Z")], "small") == (1, set())
        db.commit()
        assert sum(db.scratch_rows.values()) == 1  # truncated before it took this import's row
        assert db.execute("SELECT COUNT(*) FROM skills").fetchone()[0] == len(many) + 1
