"""Test helpers: real files from two writers, the real service as a subprocess, waiting."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from aimport.layout import Layout

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


def archived(layout: Layout, import_type: str, file_name: str) -> list[Path]:
    """History data files for ``file_name`` whose .result is written."""
    hist = layout.history_dir(import_type)
    if not hist.is_dir():
        return []
    out = []
    for p in sorted(hist.iterdir()):
        if p.suffix in (".log", ".result", ".err") or p.name.startswith("."):
            continue
        if p.name.endswith("_" + file_name) or ("_" + Path(file_name).stem + " (") in p.name:
            if p.with_name(p.name + ".result").exists():
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


def query(db: Path, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


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

    @property
    def layout(self) -> Layout:
        return Layout(self.root.absolute(), self.server, self.unit)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "aimport", "run", "--root", str(self.root), "--state-dir", str(self.state),
                "--server", self.server, "--unit", self.unit, "--logon-user", "admin", "--settle-ms", "200",
                *self.args]

    def start(self, wait: bool = True) -> "ServiceProcess":
        env = {**os.environ, **self.env}
        self.log_path = self.state.parent / f"service-{self.state.name}.log"
        self.state.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=fh, stderr=subprocess.STDOUT, env=env)
        fh.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited {self.proc.returncode}: {self.output()}")
            out = self.output()
            return "INFO    watching " in out or "automatic import is disabled" in out or '"event": "watching' in out

        wait_for(ready, timeout, what="service start")

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

    @property
    def system_db(self) -> Path:
        return self.state / "system.sqlite"

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
