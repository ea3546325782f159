"""The real service in a subprocess, for the tests where the process boundary matters (signals, kill -9, the
folders and the HTTP port as operators see them): :class:`ServiceProcess`; the ``service`` fixtures in
tests/conftest.py start and stop one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimport.layout import Layout
from aimport.store.db import is_postgresql
from tests.helpers import _flag, free_port, query, wait_archived, wait_for

__all__ = ["ServiceProcess"]


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
