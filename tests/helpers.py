"""Test helpers: real files from two writers, a store to import into, the command line in-process, the real service
as a subprocess, waiting. The fixtures that hand them to a test are in ``tests/conftest.py``."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aimport.layout import Layout
from aimport.store.db import is_postgresql

if TYPE_CHECKING:
    from aimport.importing.outcome import ImportOutcome
    from aimport.store.db import Db

Rows = Sequence[Sequence[Any]]


def write_openpyxl(path: Path, sheets: dict[str, Rows]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def write_xlsxwriter(path: Path, sheets: dict[str, Rows]) -> Path:
    """The second writer: shared strings, different XML layout than openpyxl."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    ws.write(i, j, v)
    wb.close()
    return path


def write_text(path: Path, rows: Rows, encoding: str = "utf-8-sig", delimiter: str = "\t") -> Path:
    text = "\r\n".join(delimiter.join("" if v is None else str(v) for v in r) for r in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def drop(src: Path, folder: Path) -> Path:
    """Drop a finished file by atomic rename (how most tools deliver)."""
    dest = folder / src.name
    os.replace(src, dest)
    return dest


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def at_once(work: Callable[[int], None], count: int, timeout: float = 120.0) -> None:
    """Run ``work(0)`` ... ``work(count - 1)``, each in a thread of its own, at the same time; wait for them all and
    raise the first error any of them hit (a ``threading.Barrier(count)`` in ``work`` lines them up)."""
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            work(k)
        except BaseException as exc:  # noqa: BLE001 - raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {timeout}s"
    if errors:
        raise errors[0]


def archived(layout: Layout, import_type: str, file_name: str) -> list[Path]:
    """History data files for ``file_name`` whose .result is written."""
    hist = layout.history_dir(import_type)
    if not hist.is_dir():
        return []
    out = []
    for p in sorted(hist.iterdir()):
        if p.suffix in (".log", ".result", ".err") or p.name.startswith("."):
            continue
        named = p.name.endswith("_" + file_name) or ("_" + Path(file_name).stem + " (") in p.name
        if named and p.with_name(p.name + ".result").exists():
            out.append(p)
    return out


def wait_archived(layout: Layout, import_type: str, file_name: str, count: int = 1, timeout: float = 30.0) -> list[Path]:
    return wait_for(lambda: (lambda a: a if len(a) >= count else None)(archived(layout, import_type, file_name)),
                    timeout, what=f"{file_name} archived in {import_type}/History")


def result_of(history_file: Path) -> dict[str, str]:
    out = {}
    for line in history_file.with_name(history_file.name + ".result").read_text(encoding="utf-8").splitlines():
        k, _, v = line.partition(": ")
        out[k] = v
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flag(command: Sequence[str], name: str) -> str:
    """The value of the last ``name VALUE`` (or ``name=VALUE``) in ``command``, or ""."""
    value = ""
    for i, arg in enumerate(command):
        if arg == name and i + 1 < len(command):
            value = command[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


@dataclass
class StoreUnderTest:
    """A test's system store (the ``store`` fixture): its address, and files imported into it in-process.

    Imports work in ``FOLDER/w`` and log to ``FOLDER/N.imp.log`` (N counts this store's imports).
    """

    address: Path | str  # a SQLite file or a postgresql:// URL
    folder: Path
    imports: int = 0

    @property
    def work_dir(self) -> Path:
        return self.folder / "w"

    def imp(self, path: Path, import_type: str, *, key: str = "", actor: str = "admin", log: bool = True,
            progress: Callable[[str, int], None] | None = None, **options: Any) -> ImportOutcome:
        """Import ``path`` as ``import_type`` (``run_import``, the worker's entry point) with ``options``, the
        other fields of ``ImportRequest`` (``dry_run``, ``phone_region``, ``hidden_rows``, ...). ``log=False``: the
        work log is in the outcome's ``log_text``, as for ``aimport check``; ``progress(phase, rows)`` is called
        as the import goes."""
        from aimport.importing.outcome import ImportRequest
        from aimport.importing.run import run_import

        n, self.imports = self.imports, self.imports + 1
        return run_import(ImportRequest(path=path, import_type=import_type, import_key=key or f"k{n}",
                                        store_address=self.address, work_dir=self.work_dir, actor=actor,
                                        log_path=self.folder / f"{n}.imp.log" if log else None, **options),
                          progress)

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return query(self.address, sql, args)

    def open(self) -> Db:
        """A connection to the store (``with store.open() as db:`` closes it)."""
        from aimport.store.schema import open_store

        return open_store(self.address)


def log_of(outcome: ImportOutcome) -> str:
    """The work log of an import: its .log file, or the text the outcome holds (an import with no log file)."""
    return outcome.log_path.read_text() if outcome.log_path is not None else outcome.log_text


@dataclass(frozen=True)
class CliResult:
    """What one ``aimport`` command gave (named as ``subprocess.CompletedProcess``'s fields; its output read as text,
    CR LF as a newline)."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """``aimport ARGS`` called in-process through ``aimport.cli.main`` (the ``cli`` fixture)."""

    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        """Run with no ``AIMPORT_*`` variable but those of ``env``, in ``cwd`` (default: where the test is)."""
        from aimport.cli import main

        package_logger = logging.getLogger("aimport")  # `aimport run` sets up its handler: put it back after
        saved = (package_logger.handlers[:], package_logger.level, package_logger.propagate)
        self.capsys.readouterr()  # what the test printed before is not the command's
        with self.monkeypatch.context() as m:
            for name in [k for k in os.environ if k.startswith("AIMPORT_")]:
                m.delenv(name)
            for name, value in (env or {}).items():
                m.setenv(name, value)
            if cwd is not None:
                m.chdir(cwd)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help, --version, a usage error
                if isinstance(exc.code, str):
                    print(exc.code, file=sys.stderr)
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            finally:
                package_logger.handlers[:], package_logger.level, package_logger.propagate = saved
        out, err = self.capsys.readouterr()
        return CliResult(code, _text(out), _text(err))


def _text(printed: str) -> str:
    """What was printed, read as text as ``subprocess.run(text=True)`` reads it: CR LF and CR are newlines."""
    return printed.replace("\r\n", "\n").replace("\r", "\n")


def query(db: Path | str, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on a SQLite file or a ``postgresql://`` store (``?`` placeholders on both)."""
    if is_postgresql(db):
        return _pg_query(str(db), sql, args)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _pg_query(url: str, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
    import psycopg

    password = os.environ.get("AIMPORT_STORE_PASSWORD")
    with psycopg.connect(url, connect_timeout=10, **({"password": password} if password else {})) as conn:
        conn.read_only = True
        if args:
            sql = sql.replace("%", "%%").replace("?", "%s")
        return conn.execute(sql, list(args) if args else None).fetchall()


@dataclass
class ServiceProcess:
    """The real ``aimport run`` in a subprocess, on a temporary root."""

    root: Path
    state: Path
    server: str = "TEST"
    unit: str = "VUBJS"
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    http: str = ""  # HOST:PORT of /readyz, which tells when the service is up (a free port unless the test sets one)
    store: Path | str = "sqlite"  # a postgresql:// URL (passed as --store); anything else: STATE/system.sqlite

    @property
    def layout(self) -> Layout:
        return Layout(self.root.absolute(), self.server, self.unit)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "aimport", "run", "--root", str(self.root), "--state-dir", str(self.state),
                "--server", self.server, "--unit", self.unit, "--logon-user", "admin", "--settle-ms", "200",
                *(["--store", str(self.store)] if is_postgresql(self.store) else []), *self.args]

    def start(self, wait: bool = True) -> ServiceProcess:
        env = {**os.environ, **self.env}
        command = self.command()
        given = _flag(command, "--http") or env.get("AIMPORT_HTTP", "")
        if not given:  # readiness is read from /readyz: serve it on a free loopback port
            given = f"127.0.0.1:{free_port()}"
            command += ["--http", given]
        host, _, port = given.rpartition(":")
        self.http = f"{host.strip('[]') or '127.0.0.1'}:{port}"
        self.log_path = self.state.parent / f"service-{self.state.name}.log"
        self.state.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as fh:
            self.proc = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def readyz(self) -> dict[str, Any] | None:
        """The /readyz body (200 or 503), or None while nothing answers on the port yet."""
        try:
            with urllib.request.urlopen(f"http://{self.http}/readyz", timeout=5) as r:
                return json.loads(r.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:  # 503: up, but some check fails
            return json.loads(e.read())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def metric(self, name: str) -> float | None:
        """One unlabelled value from /metrics (None while it is not there or nothing answers)."""
        try:
            with urllib.request.urlopen(f"http://{self.http}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return None

    def wait_scans(self, count: int = 2, timeout: float = 30.0) -> None:
        """Wait until the service has done ``count`` more full folder scans (each also re-checks the folders
        when --rescan-s is below 2 s): proof that what a scan would do has had its chance to happen."""
        seen: list[float | None] = [self.metric("aimport_last_scan_timestamp_seconds")]

        def scanned() -> bool:
            now = self.metric("aimport_last_scan_timestamp_seconds")
            if now is not None and now != seen[-1]:
                seen.append(now)
            return len(seen) > count

        wait_for(scanned, timeout, what=f"{count} more folder scans")

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until the service is up: /readyz answers, and (unless --disabled) its first folder scan is done.

        Recovery runs before the first scan, so this is also "recovered and watching". /readyz may say 503
        (a test may break a folder or fill the state disk on purpose): readiness here is only "up and scanning".
        """
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited {self.proc.returncode}: {self.output()}")
            body = self.readyz()  # (it answers from the start: "started" is false until start-up is done)
            checks = body.get("checks", {}) if body is not None else {}
            return body is not None and checks.get("started", True) is True and checks.get("recent_scan", True) is True

        wait_for(ready, timeout, what="service start (/readyz)")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, timeout: float = 40.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    @property
    def audit_db(self) -> Path:
        return self.state / "audit.sqlite"

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The details of the service's audit events of ``kind``, oldest first."""
        return [json.loads(d) for (d,) in query(self.audit_db, "SELECT detail FROM events WHERE kind = ? ORDER BY id", (kind,))]

    @property
    def store_address(self) -> Path | str:
        """The system store: the ``postgresql://`` URL given as ``store``, else ``STATE/system.sqlite``."""
        return str(self.store) if is_postgresql(self.store) else self.state / "system.sqlite"

    def wait_done(self, import_type: str, file_name: str, count: int = 1, timeout: float = 30.0) -> list[Path]:
        """Wait until ``file_name`` is archived (its .result written) and its audit trail is final.

        The .result is written first, the audit row and the finished/failed event right after
        it, so a test that reads the audit trail waits for both.
        """
        hist = wait_archived(self.layout, import_type, file_name, count, timeout)
        wait_for(lambda: query(self.audit_db, "SELECT COUNT(*) FROM events WHERE kind IN ('finished', 'failed') "
                               "AND json_extract(detail, '$.file') = ?", (file_name,))[0][0] >= count,
                 timeout, what=f"the audit trail's finished event for {file_name}")
        return hist


@dataclass
class StagedFile:
    """What staging one real file gives: the staged tuples, the log lines (no time stamp) and the counts."""

    rows: list[tuple[Any, ...]]
    lines: list[str]
    read: int
    rejected: int
    duplicates: list[int]
    helped: bool  # a staging helper process wrote part of it

    def result(self) -> tuple[Any, ...]:
        """Everything staging decided (the same whichever path or process did the work)."""
        return self.rows, self.lines, self.read, self.rejected, self.duplicates


def stage_file(scratch: Path, path: Path, import_type: str, helper: bool = True) -> StagedFile:
    """Stage the first sheet of the real file ``path`` as ``import_type`` into the scratch database ``scratch``."""
    from aimport.importing.stage import Stage
    from aimport.importing.worklog import ImportLog
    from aimport.itemtypes.catalog import CATALOG
    from aimport.readers.choose import open_workbook

    t = CATALOG.for_folder(import_type)
    assert t is not None, import_type
    wb = open_workbook(path)
    log = ImportLog(None)
    stage = Stage(scratch, helper=helper)
    try:
        s = stage.stage_sheet(t, wb.sheet(wb.sheet_names()[0]), log)
        helped = stage._helper is not None and stage._helper.started
        rows = [r for b in stage.staged_rows(s) for r in b]
    finally:
        stage.close()
        wb.close()
    lines = [line.split(" ", 2)[2] for line in log.text().splitlines()]
    return StagedFile(rows, lines, s.rows, s.rejected, sorted(s.duplicates), helped)
