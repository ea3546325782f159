"""Test helpers: real files from two writers, a store to import into, the command line in-process, the real service
as a subprocess, waiting. The fixtures that hand them to a test are in ``tests/conftest.py``."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
