"""The real PostgreSQL server the tests start (tests/pgserver.py), and the store's schema and connection on it."""

from __future__ import annotations

import hashlib
import os
import traceback
from pathlib import Path

import psycopg
import pytest

from aimport.store.connect import open_db
from aimport.store.db import StoreUnavailable, is_postgresql, redact
from aimport.store.schema import SCHEMA_VERSION, SchemaTooNew, open_store, stored_version
from tests.helpers import free_port, query, wait_for
from tests.pgserver import PASSWORD_ROLE, TEST_ROLE, PgServer
from tests.serviceprocess import ServiceProcess


@pytest.fixture
def no_libpq_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No password reaches libpq unless the test gives one: not the environment's, not ~/.pgpass."""
    for name in ("AIMPORT_STORE_PASSWORD", "PGPASSWORD", "PGSERVICE", "PGSERVICEFILE", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


def test_each_test_gets_a_fresh_database_on_a_real_server(pg_server: PgServer, pg_url: str) -> None:
    assert pg_url.startswith(f"postgresql://{TEST_ROLE}@127.0.0.1:{pg_server.port}/") and is_postgresql(pg_url)
    with psycopg.connect(pg_url) as conn:
        version, user, superuser = conn.execute(
            "SELECT version(), current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)").fetchone()
        tables = conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert version.startswith("PostgreSQL ") and user == TEST_ROLE and superuser is False and tables == 0
    other = pg_server.create_database()
    assert pg_server.url(other) != pg_url
    pg_server.drop_database(other)
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as its own OS user
        assert pg_server.run_as == "postgres" and pg_server.data.stat().st_uid != 0


def test_query_helper_reads_either_backend(store_address: Path | str) -> None:
    """tests.helpers.query takes the store's Path or URL, with ``?`` placeholders on both."""
    with open_store(store_address) as db:
        db.begin_write()
        db.execute("INSERT INTO import_ledger (import_key, sha256, import_type, file_name, status, stats) "
                   "VALUES (?, ?, ?, ?, ?, ?)", ("k1", "00", "Skills", "100%.txt", "succeeded", "{}"))
        db.commit()
    assert query(store_address, "SELECT file_name FROM import_ledger WHERE import_key = ?", ("k1",)) == [("100%.txt",)]
    assert query(store_address, "SELECT COUNT(*) FROM import_ledger WHERE file_name LIKE '%.txt'") == [(1,)]


def _footprint(address: Path | str) -> object:
    """Something that changes when anything writes the schema_version row (PostgreSQL: the row's xmin and ctid;
    SQLite: the file's bytes, written only by a write)."""
    if is_postgresql(address):
        return query(address, "SELECT xmin::text, ctid::text, version FROM schema_version")
    return hashlib.sha256(Path(address).read_bytes()).hexdigest()


def test_open_store_creates_the_schema_then_leaves_it_alone(store_address: Path | str) -> None:
    with open_store(store_address) as db:
        assert stored_version(db) == SCHEMA_VERSION
        for table in ("import_ledger", "campaigns", "customers", "call_attempts", "answers", "schema_version"):
            assert db.table_exists(table), table
    before = _footprint(store_address)
    with open_store(store_address) as db:  # the second start: the schema is current, nothing is written
        assert stored_version(db) == SCHEMA_VERSION
    assert _footprint(store_address) == before
    assert query(store_address, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_store_from_a_newer_aimport_is_refused(store_address: Path | str) -> None:
    open_store(store_address).close()
    with open_db(store_address) as db:
        db.begin_write()
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (99,))
        db.commit()
    with pytest.raises(SchemaTooNew, match=r"schema version 99, newer than this aimport knows \(\d+\)"):
        open_store(store_address)
    assert sorted(query(store_address, "SELECT version FROM schema_version")) == [(SCHEMA_VERSION,), (99,)]


def _unavailable(address: str, *secrets: str) -> str:
    """The StoreUnavailable message for ``address``, checked to hold none of ``secrets`` (nor its traceback)."""
    with pytest.raises(StoreUnavailable) as info:
        open_store(address)
    message = str(info.value)
    shown = message + "".join(traceback.format_exception(info.value)) + redact(address)
    for secret in secrets:
        assert secret not in shown
    return message


def test_an_unreachable_or_wrong_address_is_store_unavailable_without_the_password(pg_server: PgServer) -> None:
    closed = free_port()
    msg = _unavailable(f"postgresql://{TEST_ROLE}:hunter2-secret@127.0.0.1:{closed}/aimport", "hunter2-secret")
    assert f"postgresql://{TEST_ROLE}:***@127.0.0.1:{closed}/aimport is not reachable" in msg
    assert "refused" in msg or "failed" in msg, msg
    msg = _unavailable(pg_server.url("no_such_database"))
    assert "no_such_database" in msg and "does not exist" in msg
    msg = _unavailable("postgresql://aimport:hunter2-secret@127.0.0.1:notaport/x", "hunter2-secret")
    assert "not reachable" in msg and "notaport" in msg


@pytest.mark.usefixtures("no_libpq_password")
def test_the_password_comes_from_the_environment_or_libpq_files(
        pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name = pg_server.create_database(owner=PASSWORD_ROLE)
    url = pg_server.url(name, PASSWORD_ROLE)
    assert pg_server.password not in url
    msg = _unavailable(url, pg_server.password)
    assert "password" in msg  # no password given: the server asked for one
    monkeypatch.setenv("AIMPORT_STORE_PASSWORD", "wrong-" + pg_server.password[3:])
    msg = _unavailable(url, pg_server.password, "wrong-" + pg_server.password[3:])
    assert "password authentication failed" in msg
    monkeypatch.setenv("AIMPORT_STORE_PASSWORD", pg_server.password)
    with open_store(url) as db:
        assert stored_version(db) == SCHEMA_VERSION
    assert query(url, "SELECT current_user") == [(PASSWORD_ROLE,)]  # the helper reads the same variable
    monkeypatch.delenv("AIMPORT_STORE_PASSWORD")
    pgpass = tmp_path / "pgpass"  # libpq's password file
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:{name}:{PASSWORD_ROLE}:{pg_server.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with open_db(url) as db:
        assert db.execute("SELECT current_user").fetchone()[0] == PASSWORD_ROLE
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    services = tmp_path / "pg_service.conf"  # libpq's connection service file: the URL names only the service
    services.write_text(f"[aimport]\nhost=127.0.0.1\nport={pg_server.port}\ndbname={name}\n"
                        f"user={PASSWORD_ROLE}\npassword={pg_server.password}\n")
    services.chmod(0o600)
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    with open_db("postgresql://?service=aimport") as db:
        assert db.execute("SELECT current_user, current_database()").fetchone() == (PASSWORD_ROLE, name)
    pg_server.drop_database(name)


@pytest.mark.e2e
@pytest.mark.usefixtures("no_libpq_password")
def test_the_service_never_shows_the_password(pg_server: PgServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The service connects with AIMPORT_STORE_PASSWORD; its log never holds the password, also when it is wrong
    (then the log says so, whether the service waits for the store or gives up)."""
    name = pg_server.create_database(owner=PASSWORD_ROLE)
    url = pg_server.url(name, PASSWORD_ROLE)
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state", store=url,
                         env={"AIMPORT_STORE_PASSWORD": pg_server.password})
    try:
        svc.start()
        assert svc.store_address == url
        monkeypatch.setenv("AIMPORT_STORE_PASSWORD", pg_server.password)
        assert query(url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]  # the service made it
    finally:
        svc.stop(timeout=30)
    assert pg_server.password not in svc.output()
    wrong = "wrong-" + pg_server.password[3:]
    bad = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state2", store=url,
                         env={"AIMPORT_STORE_PASSWORD": wrong})
    bad.start(wait=False)
    try:
        wait_for(lambda: "password authentication failed" in bad.output(), 60, what="the service's log says why")
    finally:
        bad.kill()
    out = bad.output()
    assert wrong not in out and pg_server.password not in out
    pg_server.drop_database(name)
