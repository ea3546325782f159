"""The store address (issue 26, item 1): a password in any form libpq accepts is masked wherever the address is
shown, and every command takes or refuses the same forms, by one rule (aimport.store.address)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict

from aimport import staterecord
from aimport.settings import Settings, SettingsError
from aimport.store.address import display, resolve, without_password
from aimport.store.db import redact
from tests.helpers import Cli, drop, free_port, wait_for, write_text
from tests.pgserver import PASSWORD_ROLE, PgServer
from tests.serviceprocess import ServiceProcess

SECRET = "Hunter2-s3cret"
ODD = "p@ss/w?rd&x=y #%"  # every character that means something in a URL
# (the address, the secrets it holds as written): every place libpq finds a password
FORMS = [
    (f"postgresql://aim@db.example:5432/aimport?password={SECRET}", [SECRET]),  # the report
    (f"postgresql://db.example/aimport?user=aim&password={SECRET}", [SECRET]),
    (f"host=db.example port=5432 dbname=aimport user=aim password={SECRET}", [SECRET]),
    (f"postgresql://aim:{SECRET}@db.example:5432/aimport", [SECRET]),
    (f"postgres://aim:{SECRET}@db.example/aimport?sslmode=require", [SECRET]),
    (f"postgresql://db.example/aimport?pass%77ord={SECRET}", [SECRET]),  # the parameter's name percent-encoded
    (f"postgresql://aim:{quote(ODD, safe='')}@db.example/aimport", [ODD, quote(ODD, safe="")]),
    (f"postgresql://aim@db.example/aimport?password={quote(ODD, safe='')}", [ODD, quote(ODD, safe="")]),
    (f"postgresql://aim:one-{SECRET}@h1:5432,h2:5433/aimport?password=two-{SECRET}", [SECRET]),
    (f"host=db.example dbname=aimport password='with space {SECRET}'", [SECRET]),
    (f"host = db.example   password = {SECRET}  dbname=aimport", [SECRET]),
    (f"host=/run/postgresql dbname=aimport sslpassword={SECRET} password=other-{SECRET}", [SECRET]),
    (f"postgresql://aim:{SECRET}?x@db.example/aimport", [SECRET]),  # libpq ends the user part at the first @
]


def _readback(text: str) -> dict[str, Any]:
    return {k: v for k, v in conninfo_to_dict(text).items() if v is not None}


@pytest.mark.parametrize(("address", "secrets"), FORMS)
def test_a_password_in_any_form_libpq_reads_is_masked(address: str, secrets: list[str], tmp_path: Path) -> None:
    given = _readback(address)
    url = resolve(address, tmp_path)
    assert isinstance(url, str) and _readback(url) == given  # a keyword string is the same parameters, as a URL
    masked = [display(address), display(url), redact(url)]
    assert all("***" in shown for shown in masked), masked
    for shown in [*masked, display(without_password(address))]:
        for secret in secrets:
            assert secret not in shown, shown
        read = _readback(shown)
        assert {k: v for k, v in read.items() if k not in ("password", "sslpassword")} == \
            {k: v for k, v in given.items() if k not in ("password", "sslpassword")}  # only the secrets changed
        assert {read.get("password"), read.get("sslpassword")} <= {None, "***"}
    recorded = without_password(address)
    assert _readback(recorded) == {k: v for k, v in given.items() if k not in ("password", "sslpassword")}
    staterecord.write(tmp_path, staterecord.ServiceRecord("/r", "s", "u", address))  # what `aimport run` records
    text = (tmp_path / "service.json").read_text()
    assert all(secret not in text for secret in secrets) and json.loads(text)["store"] == recorded


def test_addresses_without_a_password_are_shown_as_written(tmp_path: Path) -> None:
    for address in ("postgresql://aim@db.example:5432/aimport", "postgresql://?service=aimport"):
        assert display(address) == address and without_password(address) == address
    assert display(tmp_path / "system.sqlite") == str(tmp_path / "system.sqlite")
    assert resolve("sqlite", tmp_path) == tmp_path / "system.sqlite"
    assert Settings(state_dir=tmp_path).store_address == tmp_path / "system.sqlite"


@pytest.mark.parametrize(("store", "says"), [
    ("mysql://a:b@c/d", "the scheme mysql:// is not supported"),
    (f"mysql://root:{SECRET}@db/x?password={SECRET}", "the scheme mysql:// is not supported"),
    (f"http://u:{SECRET}@h/", "the scheme http:// is not supported"),
    (f"host=db pasword={SECRET}", 'invalid connection option "pasword"'),  # a typo libpq names
    (f"postgresql://db/x?pasword={SECRET}", 'invalid URI query parameter: "pasword"'),
    (f"postgresql://aim:{SECRET}%zz@db/x", "not a PostgreSQL address libpq accepts"),
    (f"password = {SECRET} {SECRET}x", "not a PostgreSQL address libpq accepts"),
    (f"{SECRET} at db", "must be sqlite, a postgresql://"),
    ("sqllite", "not 'sqllite'"),
])
def test_a_refused_store_says_why_without_the_password(store: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        Settings(store=store, state_dir=tmp_path).check_store()
    assert says in str(info.value) and SECRET not in str(info.value) and ":b@" not in str(info.value)
    with pytest.raises(SettingsError):  # every command reads the store through the same property
        Settings(store=store, state_dir=tmp_path).store_address  # noqa: B018


@pytest.mark.e2e
def test_status_and_run_take_and_refuse_the_same_forms(cli: Cli, tmp_path: Path) -> None:
    """`aimport status` used to read a keyword string as "sqlite" (and report an empty local store) while
    `aimport run` refused it; now both read it as the PostgreSQL server it names, and both refuse the same
    forms with the same words, never echoing the password."""
    closed = free_port()
    keywords = f"host=127.0.0.1 port={closed} dbname=aimport user=aim password={SECRET}"
    common = ["--root", str(tmp_path / "root"), "--state-dir", str(tmp_path / "state")]
    no_pgpass = {"PGPASSFILE": str(tmp_path / "no-pgpass")}
    status = cli("status", *common, "--store", keywords, env=no_pgpass)
    assert status.returncode == 1 and "system.sqlite" not in status.stdout + status.stderr
    assert f"port={closed}" in status.stderr and "password=***" in status.stderr and "not reachable" in status.stderr
    run = subprocess.Popen([sys.executable, "-m", "aimport", "run", *common, "--logon-user", "admin", "--store", keywords],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env={**os.environ, **no_pgpass})
    try:
        lines: list[str] = []
        assert run.stdout is not None
        for line in run.stdout:  # the service waits for the server it was given, as status tried to reach it
            lines.append(line)
            if "not reachable" in line:
                break
    finally:
        run.kill()
        run.wait(10)
    out = "".join(lines)
    assert "not reachable" in out and f"port={closed}" in out and "password=***" in out and SECRET not in out
    for store in ("mysql://a:b@c/d", f"host=db pasword={SECRET}", f"{SECRET} at db"):
        said = {}
        for command in ("run", "status"):
            r = cli(command, *common, "--logon-user", "admin", "--store", store, env=no_pgpass) if command == "run" \
                else cli(command, *common, "--store", store, env=no_pgpass)
            assert r.returncode != 0 and SECRET not in r.stdout + r.stderr and ":b@" not in r.stdout + r.stderr, r
            said[command] = (r.stdout + r.stderr).split("--store", 1)[-1].strip()
        assert said["run"] == said["status"], said


def _get(address: str, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as r:
            return str(r.read().decode())
    except urllib.error.HTTPError as e:
        return str(e.read().decode())


@pytest.mark.e2e
@pytest.mark.parametrize("form", ["query", "user-and-password-query", "keywords"])
def test_the_service_never_shows_a_password_given_in_the_address(pg_server: PgServer, cli: Cli, tmp_path: Path, form: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The password only in the store address (no AIMPORT_STORE_PASSWORD, no pgpass): the service connects with
    it and shows it nowhere: log, service.json, status, errors, /readyz, /metrics, the jobs view."""
    for name in ("AIMPORT_STORE_PASSWORD", "PGPASSWORD", "PGSERVICE", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    db = pg_server.create_database(owner=PASSWORD_ROLE)
    pw, host, port = pg_server.password, pg_server.host, pg_server.port
    store = {"query": f"postgresql://{PASSWORD_ROLE}@{host}:{port}/{db}?password={pw}",
             "user-and-password-query": f"postgresql://{host}:{port}/{db}?user={PASSWORD_ROLE}&password={pw}",
             "keywords": f"host={host} port={port} dbname={db} user={PASSWORD_ROLE} password={pw}"}[form]
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state", args=["--store", store])
    try:
        svc.start(wait=False)
        svc.wait_ready(60)
        drop(write_text(tmp_path / "skills.txt", [["Name", "Description"], ["Sales", "sells"], ["", "no name"]]),
             svc.layout.type_dir("Skills"))
        svc.wait_done("Skills", "skills.txt")
        shown = {path: _get(svc.http, path) for path in ("/readyz", "/metrics", "/api/summary", "/api/imports",
                                                           "/api/imports/1", "/api/campaigns")}
        assert json.loads(shown["/readyz"])["checks"]["system_store"] is True
        assert json.loads(shown["/api/imports"])["imports"][0]["status"] == "partial"
        status = cli("status", "--state-dir", svc.state, "--store", store)
        assert status.returncode == 0 and "***" in status.stdout, status.stderr
        as_json = cli("status", "--json", "--state-dir", svc.state, "--store", store)
        assert json.loads(as_json.stdout)["items"]["skills"] == 1, as_json.stderr
        recorded = cli("status", "--state-dir", svc.state)  # the store from service.json:
        assert recorded.returncode == 1 and "password" in recorded.stderr  # no password there, so the server asks
        pg_server.drop_database(db)  # the store goes away under the running service: /readyz says why
        gone = wait_for(lambda: (lambda b: b if "not reachable" in b.get("system_store", "") else None)(
            json.loads(_get(svc.http, "/readyz"))), 30, what="/readyz to say the store is not reachable")
        shown["/readyz (store gone)"] = json.dumps(gone)
        assert "***" in gone["system_store"] and "does not exist" in gone["system_store"], gone
        shown["status (store gone)"] = (lambda r: r.stdout + r.stderr)(
            cli("status", "--state-dir", svc.state, "--store", store))
    finally:
        svc.stop(timeout=30)
    shown.update({"log": svc.output(), "service.json": (svc.state / "service.json").read_text(),
                  "status": status.stdout + status.stderr, "status --json": as_json.stdout + as_json.stderr,
                  "status (recorded)": recorded.stdout + recorded.stderr})
    leaks = [where for where, text in shown.items() if pw in text]
    assert leaks == [], leaks
    assert json.loads(shown["service.json"])["store"] == without_password(store)
