"""The HTTP endpoint with real requests: health, readiness, Prometheus metrics, SIGHUP tuning."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess, drop, query, wait_archived, wait_for, write_text

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            if line.split(" ")[0] == name or name.endswith("}"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_health_ready_and_metrics(service: ServiceProcess, tmp_path: Path) -> None:
    port = free_port()
    service.args += ["--http", str(port)]  # a bare port means loopback
    service.start()
    wait_for(lambda: "HTTP on http://127.0.0.1:" in service.output(), 10, what="http up")
    status, body = get(port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(get(port, "/readyz")), 10, what="ready")
    assert json.loads(body)["checks"]["folders"] is True
    drop(write_text(tmp_path / "s.txt", [["Name"], ["a"], ["b"], [""]]), service.layout.type_dir("Skills"))
    drop(write_text(tmp_path / "bad.txt", [["Nope"], ["a"]]), service.layout.type_dir("Skills"))
    wait_archived(service.layout, "Skills", "bad.txt")
    status, text = get(port, "/metrics")
    assert status == 200
    assert 'aimport_imports_total{status="succeeded",type="Skills"} 1.0' in text
    assert 'aimport_imports_total{status="failed",type="Skills"} 1.0' in text
    assert 'aimport_rows_total{outcome="created"} 2.0' in text
    assert 'aimport_files_detected_total{type="Skills"} 2.0' in text
    for name in ("aimport_concurrency_limit 2.0", "aimport_imports_in_flight 0.0", "aimport_pending_files 0.0",
                 'aimport_campaigns{status="Active"} 0.0', "aimport_import_duration_seconds_count",
                 "aimport_last_scan_timestamp_seconds", "aimport_oldest_pending_age_seconds", "aimport_event_loop_lag_max_seconds"):
        assert name in text, name
    assert get(port, "/nope")[0] == 404


def test_sighup_reloads_max_concurrent(service: ServiceProcess, tmp_path: Path) -> None:
    cfg = tmp_path / "aimport.toml"
    cfg.write_text("max_concurrent = 2\n")
    port = free_port()
    service.args += ["--config", str(cfg), "--http", f"127.0.0.1:{port}"]
    service.start()
    wait_for(lambda: "HTTP on" in service.output(), 10)
    assert "aimport_concurrency_limit 2.0" in get(port, "/metrics")[1]
    cfg.write_text("max_concurrent = 3\n")
    assert service.proc is not None
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "aimport_concurrency_limit 3.0" in get(port, "/metrics")[1], 10, what="limit 3")
    [(detail,)] = query(service.audit_db, "SELECT detail FROM events WHERE kind = 'settings_reloaded'")
    assert json.loads(detail) == {"max_concurrent": 3, "previous": 2}
    wait_for(lambda: "max concurrent imports changed from 2 to 3" in service.output(), 5, what="log line")
    assert service.proc.poll() is None
