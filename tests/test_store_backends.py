"""The store seen from outside on both backends: readiness and metrics, transparent retries on a real server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aimport.store.connect import open_db
from aimport.store.db import StoreRetry, StoreUnavailable, retry_count, with_retries
from aimport.store.schema import open_store
from tests.helpers import drop, query, wait_archived, wait_for, write_text
from tests.pgserver import PgServer
from tests.serviceprocess import ServiceProcess


@pytest.mark.e2e
def test_readyz_and_metrics_show_the_system_store(service_on_both: ServiceProcess, tmp_path: Path) -> None:
    svc = service_on_both.start()
    ready = svc.readyz()
    assert ready is not None and ready["checks"]["system_store"] is True, ready
    drop(write_text(tmp_path / "skills.txt", [["Name"], ["Sales"], ["Support"]]), svc.layout.type_dir("Skills"))
    wait_archived(svc.layout, "Skills", "skills.txt", timeout=60)
    assert query(svc.store_address, "SELECT name FROM skills ORDER BY name") == [("Sales",), ("Support",)]
    assert svc.metric("aimport_store_up") == 1
    rtt = svc.metric("aimport_store_round_trip_seconds")
    assert rtt is not None and rtt > 0
    assert svc.metric("aimport_store_retries_total") == 0


@pytest.mark.e2e
def test_a_store_that_goes_away_is_not_ready_and_says_why(pg_server: PgServer, tmp_path: Path) -> None:
    """The PostgreSQL database disappears under a running service: /readyz turns 503 with the reason, no crash."""
    name = pg_server.create_database()
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state", store=pg_server.url(name))
    try:
        svc.start()
        assert svc.readyz()["checks"]["system_store"] is True  # type: ignore[index]
        pg_server.drop_database(name)

        def not_ready() -> bool:
            body = svc.readyz()
            return body is not None and body["checks"].get("system_store") is False

        wait_for(not_ready, 30, what="/readyz system_store false")
        body = svc.readyz()
        assert body is not None and body["status"] == "not ready" and "does not exist" in body["system_store"]
        assert svc.proc is not None and svc.proc.poll() is None  # still running
    finally:
        svc.stop(timeout=15)


def test_a_serialization_failure_is_retried_and_counted(pg_url: str) -> None:
    """Two transactions on a real server that cannot both commit: the loser runs again, transparently."""
    with open_store(pg_url) as setup:
        setup.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        setup.execute("INSERT INTO counter VALUES (0)")
    first, second = open_db(pg_url), open_db(pg_url)
    read_by_second = threading.Event()
    first_committed = threading.Event()

    def bump(db, wait_for_other: bool) -> int:  # type: ignore[no-untyped-def]
        db.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        (n,) = db.execute("SELECT n FROM counter").fetchone()
        if wait_for_other and not first_committed.is_set():
            read_by_second.set()
            first_committed.wait(10)
        db.execute("UPDATE counter SET n = ?", (n + 1,))
        db.commit()
        return int(n)

    before = retry_count()
    worker = threading.Thread(target=lambda: with_retries(second, lambda: bump(second, True)))
    worker.start()
    read_by_second.wait(10)
    bump(first, False)
    first_committed.set()
    worker.join(20)
    assert open_db(pg_url).execute("SELECT n FROM counter").fetchone()[0] == 2  # neither increment was lost
    assert retry_count() - before == 1
    first.close()
    second.close()


def test_errors_are_the_stores_own_on_both_backends(store_address: Path | str) -> None:
    """A statement the store refuses is a StoreFailure, a vanished server StoreUnavailable: never a driver type."""
    from aimport.store.db import StoreFailure

    with open_store(store_address) as db:
        db.execute("INSERT INTO skills (name) VALUES ('Sales')")
        with pytest.raises(StoreFailure):  # the identification is unique
            db.execute("INSERT INTO skills (name) VALUES ('Sales')")
    with pytest.raises(StoreUnavailable):
        open_db("postgresql://aimport@127.0.0.1:1/nothing", timeout=2)
    assert issubclass(StoreRetry, Exception)


def test_a_store_from_before_versioning_is_upgraded_in_place(store_address: Path | str) -> None:
    """A store written before schema_version existed (campaigns without started_at/export_ready) is version 1:
    opened by this aimport it is upgraded at start, its data kept."""
    from aimport.store.schema import SCHEMA_VERSION, stored_version

    with open_store(store_address) as db:  # make it look like the first schema
        db.execute("DROP TABLE schema_version")
        db.execute("ALTER TABLE campaigns DROP COLUMN started_at")
        db.execute("ALTER TABLE campaigns DROP COLUMN export_ready")
        db.execute("INSERT INTO campaigns (name, status, created_at) VALUES ('Old', 'Active', '2026-01-02T03:04:05.000Z')")
        assert stored_version(db) == 1
    with open_store(store_address) as db:
        assert stored_version(db) == SCHEMA_VERSION
        row = db.execute("SELECT name, started_at, export_ready FROM campaigns").fetchall()
    assert [tuple(r) for r in row] == [("Old", "2026-01-02T03:04:05.000Z", 0)]
