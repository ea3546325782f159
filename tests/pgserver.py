"""A real PostgreSQL server for the tests, started once per session in a throwaway directory.

The server comes from the machine's PostgreSQL binaries (Debian's ``postgresql`` package, which ``.ci/run``
installs when it is missing): ``initdb`` into a temporary data directory, ``postgres`` listening on
127.0.0.1 at a free port (and on a unix socket in the same directory), with the fast settings a
throwaway server can afford (no fsync). When the tests run as root the server runs as the ``postgres``
OS user, because PostgreSQL refuses to run as root.

Fixtures: ``pg_server`` (session: the :class:`PgServer`) and ``pg_url`` (function: a fresh, empty
database owned by the test role, as ``postgresql://aimport@127.0.0.1:PORT/NAME``, dropped afterwards).
Without PostgreSQL binaries ``pg_server`` skips with the reason, except in CI (``CI`` set), where a
missing server is a failure.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port

__all__ = ["PASSWORD_ROLE", "TEST_ROLE", "PgServer", "find_bindir", "pg_server", "pg_url", "start_server"]

TEST_ROLE = "aimport"  # trusted on loopback: what the tests' URLs name
PASSWORD_ROLE = "aimport_pw"  # the one role that must give a password (scram-sha-256)
SERVER_OS_USER = "postgres"  # who runs initdb/postgres when the tests run as root
BASE_PREFIX = "aimport-pg-"  # the throwaway directories, in the temporary directory
SETTINGS = {  # a throwaway server: nothing here has to survive a crash of the machine
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",  # several services, each with import workers, on one server
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}
_names = itertools.count(1)


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: ``pg_config --bindir``, Debian's
    ``/usr/lib/postgresql/<newest>/bin``, or wherever ``initdb`` is on the PATH."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        r = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout.strip():
            candidates.append(Path(r.stdout.strip()))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(versions, key=lambda p: _version(p), reverse=True)]
    if shutil.which("initdb"):
        candidates.append(Path(str(shutil.which("initdb"))).resolve().parent)
    for bindir in candidates:
        if all((bindir / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", Path(path).parent.name)) or (0,)


@dataclass
class PgServer:
    """One running server: ``base`` holds ``data/``, the socket directory ``sock/`` and ``server.log``."""

    bindir: Path
    base: Path
    port: int
    run_as: str | None  # the OS user the server runs as when the tests run as root, else None (the tests' user)
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(12))  # of PASSWORD_ROLE
    host: str = "127.0.0.1"
    superuser: str = "postgres"
    stopped: bool = False

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sock(self) -> Path:
        return self.base / "sock"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def url(self, dbname: str, user: str = TEST_ROLE) -> str:
        """``postgresql://USER@127.0.0.1:PORT/DBNAME``: never a password in it."""
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> Any:
        """An autocommit connection as the superuser (the caller closes it)."""
        import psycopg

        return psycopg.connect(self.url(dbname, self.superuser), autocommit=True, connect_timeout=10)

    def create_database(self, owner: str = TEST_ROLE, prefix: str = "t") -> str:
        """A fresh, empty database owned by ``owner``; its name."""
        name = f"{prefix}_{next(_names)}_{secrets.token_hex(4)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name`` even while something (a killed service's worker) still holds a connection to it."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(self.run_as, [str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], check=check)

    def stop(self) -> None:
        """Stop at once (``-m immediate``: nothing in it is kept) and remove the directory."""
        if self.stopped:
            return
        self.stopped = True
        try:
            self.pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _run(run_as: str | None, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        argv = ["runuser", "-u", run_as, "--", *argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stdout}{r.stderr}")
    return r


def start_server(bindir: Path) -> PgServer:
    """initdb a throwaway data directory and start ``postgres`` on it (a few attempts: a free port can be taken
    by someone else between choosing it and binding it)."""
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_OS_USER)
        except KeyError:
            raise RuntimeError(f"the tests run as root and PostgreSQL refuses to: there is no {SERVER_OS_USER!r} "
                               "OS user to run it as (Debian's postgresql package creates it)") from None
        run_as = SERVER_OS_USER
    _reap_orphans(bindir)
    base = Path(tempfile.mkdtemp(prefix=BASE_PREFIX))
    (base / "owner.tmp").write_text(str(os.getpid()))  # a server whose session was killed: the next one stops it
    os.replace(base / "owner.tmp", base / "owner")
    base.chmod(0o755)  # the tests (root) read the log; the server's user owns the directory
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    server = PgServer(bindir, base, 0, run_as)
    try:
        server.sock.mkdir()
        if run_as is not None:
            os.chown(server.sock, pwd.getpwnam(run_as).pw_uid, -1)
        _run(run_as, [str(bindir / "initdb"), "-D", str(server.data), "-U", server.superuser, "-A", "trust",
                      "--no-locale", "-E", "UTF8", "--no-sync"])
        _configure(server)
        for attempt in range(5):
            server.port = free_port()
            options = f"-p {server.port} -k {server.sock}"
            r = server.pg_ctl("start", "-w", "-t", "60", "-l", str(server.log), "-o", options, check=False)
            if r.returncode == 0:
                break
            if "already in use" not in server.log_text() or attempt == 4:
                raise RuntimeError(f"PostgreSQL did not start (pg_ctl exited {r.returncode}): {r.stdout}{r.stderr}"
                                   f"\n--- {server.log} ---\n{server.log_text()}")
        with server.admin() as conn:
            conn.execute(f'CREATE ROLE "{TEST_ROLE}" LOGIN')
            conn.execute(f"CREATE ROLE \"{PASSWORD_ROLE}\" LOGIN PASSWORD '{server.password}'")
    except BaseException:
        server.stop()
        raise
    return server


def _reap_orphans(bindir: Path) -> None:
    """Stop and remove the servers of test sessions that were killed before their finalizers ran (the process
    named in ``owner`` is gone); a live session's server is left alone."""
    for base in Path(tempfile.gettempdir()).glob(BASE_PREFIX + "*"):
        try:
            owner = int((base / "owner").read_text())
        except (OSError, ValueError):
            continue  # not one of ours
        if _alive(owner):
            continue
        try:
            uid = base.stat().st_uid
        except OSError:
            continue  # removed meanwhile
        run_as = pwd.getpwuid(uid).pw_name if os.geteuid() == 0 and uid != 0 else None
        PgServer(bindir, base, 0, run_as).stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _configure(server: PgServer) -> None:
    """Fast settings, and who may connect how: PASSWORD_ROLE with a password over TCP, everyone else trusted."""
    with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("\n# aimport tests: a throwaway server\n")
        conf.writelines(f"{k} = {v}\n" for k, v in SETTINGS.items())
    (server.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        "host all all 127.0.0.1/32 trust\n",
        encoding="utf-8")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end of the session)."""
    bindir = find_bindir()
    if bindir is None:
        reason = ("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found via pg_config --bindir, "
                  "/usr/lib/postgresql/*/bin or the PATH: install Debian's postgresql package (.ci/run does)")
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: " + reason, pytrace=False)
        pytest.skip(reason)
    server = start_server(bindir)
    atexit.register(server.stop)  # also when the session ends without running its finalizers
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test, owned by the test role: ``postgresql://aimport@127.0.0.1:PORT/NAME``."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)
