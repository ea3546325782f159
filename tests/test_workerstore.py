"""The store connection a worker process keeps between imports: reused, yet every import still sees the store as
it is now (a replaced or deleted SQLite file, a newer schema, a broken connection)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aimport.importing.outcome import ImportOutcome
from aimport.store import workerstore
from aimport.store.connect import open_db
from aimport.store.schema import open_store
from aimport.store.workerstore import import_store
from tests.helpers import StoreUnderTest, log_of, write_text


def skill(store: StoreUnderTest, n: int) -> ImportOutcome:
    """Import a Skills file of one row, ``Skill N``."""
    return store.imp(write_text(store.folder / f"skills{n}.txt", [["Name"], [f"Skill {n}"]]), "Skills")


@pytest.mark.both_stores
def test_one_connection_for_many_imports_and_nothing_left_attached(store: StoreUnderTest, tmp_path: Path) -> None:
    assert skill(store, 1).status == "succeeded"
    with import_store(store.address) as db:
        first = db
    for n in range(2, 6):
        assert skill(store, n).status == "succeeded"
    with import_store(store.address) as db:
        assert db is first  # kept: not opened again
        assert not db.in_transaction
        if db.dialect == "sqlite":
            assert {r[1] for r in db.execute("PRAGMA database_list").fetchall()} <= {"main", "temp"}
    assert store.query("SELECT COUNT(*) FROM skills") == [(5,)]
    assert store.query("SELECT COUNT(*) FROM import_ledger") == [(5,)]


def test_a_replaced_or_deleted_store_file_is_opened_afresh(store: StoreUnderTest, tmp_path: Path) -> None:
    assert skill(store, 1).status == "succeeded"
    for suffix in ("", "-wal", "-shm"):  # deleted under the kept connection: the next import makes a new store
        Path(f"{store.address}{suffix}").unlink(missing_ok=True)
    assert skill(store, 2).status == "succeeded"
    assert store.query("SELECT name FROM skills") == [("Skill 2",)]
    other = tmp_path / "other.sqlite"  # replaced by another file: the imports go into the file now at the path
    open_store(other).close()
    other.rename(store.address)
    assert skill(store, 3).status == "succeeded"
    assert skill(store, 4).status == "succeeded"
    assert {("Skill 3",), ("Skill 4",)} <= set(store.query("SELECT name FROM skills"))


@pytest.mark.both_stores
def test_a_newer_schema_is_refused_by_a_kept_connection(store: StoreUnderTest, tmp_path: Path) -> None:
    assert skill(store, 1).status == "succeeded"
    with open_db(store.address) as db:  # a newer aimport upgraded the store meanwhile
        db.begin_write()
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (99,))
        db.commit()
    o = skill(store, 2)
    assert (o.status, o.error_code) == ("failed", "STORE_UNAVAILABLE")
    assert "newer than this aimport knows" in log_of(o)
    assert store.query("SELECT COUNT(*) FROM skills") == [(1,)]


def test_imports_in_two_threads_at_once_each_get_a_connection(store: StoreUnderTest, tmp_path: Path) -> None:
    assert skill(store, 0).status == "succeeded"
    inside, release = threading.Event(), threading.Event()
    seen = []

    def hold() -> None:
        with import_store(store.address) as db:
            seen.append(db)
            inside.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    assert inside.wait(30)
    try:
        with import_store(store.address) as db:  # the kept one is in use: this import gets its own
            assert db is not seen[0]
            assert db.execute("SELECT COUNT(*) FROM skills").fetchone() == (1,)
    finally:
        release.set()
        t.join(30)
    assert workerstore._kept is not None and workerstore._kept.db is seen[0]
