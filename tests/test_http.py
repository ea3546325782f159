"""The HTTP endpoint with real requests: health, readiness, Prometheus metrics, SIGHUP tuning."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from aimport.importing.outcome import Totals
from aimport.service.health import HealthView
from aimport.service.officehours.heldlist import HeldFile
from tests.helpers import drop, free_port, query, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        named = line.startswith(name + " ") or line.startswith(name + "{")
        if named and (line.split(" ")[0] == name or name.endswith("}")):
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
    # the .result file is written before the audit row; an import leaves aimport_imports_in_flight before it is
    # counted in aimport_imports_total (after its finished event): wait for the very figures asserted
    done = ('aimport_imports_total{status="succeeded",type="Skills"} 1.0',
            'aimport_imports_total{status="failed",type="Skills"} 1.0', 'aimport_rows_total{outcome="created"} 2.0')
    status, text = wait_for(lambda: (lambda r: r if all(line in r[1] for line in done) else None)(get(port, "/metrics")),
                            10, what="both imports counted in /metrics")
    assert status == 200
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


def request(port: int, path: str, method: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method), timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_disabled_mode_sighup_without_config_and_methods(service: ServiceProcess) -> None:
    """--disabled: healthy and ready without folders to scan; SIGHUP with no --config keeps the flag's limit."""
    port = free_port()
    service.args += ["--disabled", "--max-concurrent", "4", "--http", f"127.0.0.1:{port}"]
    service.start()
    wait_for(lambda: "HTTP on" in service.output(), 10)
    status, body = get(port, "/readyz")
    assert status == 200 and "recent_scan" not in json.loads(body)["checks"]
    assert request(port, "/healthz", "HEAD") == (200, b"")
    assert request(port, "/metrics", "POST")[0] == 405
    assert service.proc is not None
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "no --config file" in service.output(), 5, what="reload warning")
    assert "aimport_concurrency_limit 4.0" in get(port, "/metrics")[1]
    assert query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'settings_reloaded'") == [(0,)]


def test_address_parsing() -> None:
    from aimport.web.server import parse_address

    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address(":8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:9") == ("0.0.0.0", 9)
    assert parse_address("[::1]:9") == ("::1", 9)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("localhost:http")


@dataclass
class FakeIntake:
    """Stands in for the scheduler: what /readyz and /metrics read of detection."""

    last_scan: float = 0.0
    pending: list[Path] = field(default_factory=list)

    def pending_paths(self) -> list[Path]:
        return self.pending

    def held_files(self) -> list[HeldFile]:  # none held (office hours: tests/test_office_hours.py)
        return []


def fake_service(tmp_path: Path, loop_lag_s: float = 0.0, last_beat: float = 0.0,
                 intake: FakeIntake | None = None) -> HealthView:
    from aimport.service.health import LoopHealth
    from aimport.settings import Settings

    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin", rescan_s=60)
    settings.layout.ensure()
    settings.state_dir.mkdir()
    return HealthView(settings, anyio.CapacityLimiter(2), loop=LoopHealth(lag_s=loop_lag_s, last_beat=last_beat),
                      intake=intake or FakeIntake())


def test_health_and_readiness_decisions(tmp_path: Path) -> None:
    from aimport.service.health import healthz, readyz

    async def check() -> None:
        now = anyio.current_time()
        assert healthz(fake_service(tmp_path / "a", last_beat=now))[0] == 200
        assert healthz(fake_service(tmp_path / "b", last_beat=now - 5))[0] == 503  # heartbeat stopped
        assert healthz(fake_service(tmp_path / "c", last_beat=now, loop_lag_s=1.5))[0] == 503  # loop blocked
    anyio.run(check)
    svc = fake_service(tmp_path / "d", intake=FakeIntake(last_scan=100.0))
    assert readyz(svc, 110.0)[0] == 200
    code, body = readyz(svc, 100.0 + 200)  # no scan for more than two rescan intervals
    assert code == 503 and body["checks"]["recent_scan"] is False
    svc.intake = FakeIntake(last_scan=290.0)
    svc.settings.layout.in_process_dir("Skills").rmdir()
    code, body = readyz(svc, 300.0)
    assert code == 503 and body["checks"]["folders"] is False


def test_metrics_observer_is_per_service(tmp_path: Path) -> None:
    from aimport.service.metrics import Metrics

    a, b = Metrics(), Metrics()
    a.file_detected("Skills")
    a.import_started("Skills")
    a.import_done("Skills", "partial", Totals(rows=3, created=2, rejected=1), 0.3)
    a.campaign_exported({"campaign": "X", "recovered": False})
    a.campaign_exported({"campaign": "X", "recovered": True})  # a re-run after a crash is not a new export
    waiting = tmp_path / "w.txt"
    waiting.write_text("x")
    os.utime(waiting, (time.time() - 120, time.time() - 120))
    svc = fake_service(tmp_path, intake=FakeIntake(pending=[waiting, tmp_path / "claimed.txt"]))
    a.refresh(svc)
    text = a.render().decode()
    for line in ('aimport_imports_total{status="partial",type="Skills"} 1.0', 'aimport_rows_total{outcome="rejected"} 1.0',
                 "aimport_imports_in_flight 1.0", "aimport_campaign_exports_total 1.0", "aimport_pending_files 1.0",
                 'aimport_import_duration_seconds_bucket{le="0.5",type="Skills"} 1.0', "aimport_concurrency_limit 2.0"):
        assert line in text, line
    assert 119 < metric(text, "aimport_oldest_pending_age_seconds") < 200
    assert "aimport_imports_total{" not in b.render().decode()  # no shared (global) registry


def test_slow_clients_are_cut_off_and_never_hold_the_checks(service: ServiceProcess) -> None:
    """A client that sends its request head a byte at a time (or nothing at all) is closed by the server
    (aimport.web.server.IDLE_S after it connected), while /healthz keeps answering for everyone else."""
    import socket

    from aimport.web.server import IDLE_S

    service.start()
    host, _, port = service.http.rpartition(":")
    silent = [socket.create_connection((host, int(port)), timeout=5) for _ in range(20)]
    trickle = socket.create_connection((host, int(port)), timeout=5)
    trickle.sendall(b"GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    try:
        sent, closed, deadline = 0, False, time.monotonic() + IDLE_S * 6  # a safety net, not a measure
        while not closed and time.monotonic() < deadline:
            try:
                trickle.sendall(b"a")
                sent += 1
                trickle.settimeout(0.5)
                closed = trickle.recv(1024) == b""
            except TimeoutError:
                pass
            except OSError:
                closed = True
            assert get(int(port), "/healthz")[0] == 200
        assert closed, f"a client sending its headers a byte at a time was still connected after {sent} bytes"
        for s in silent:  # those that sent nothing were closed too
            s.settimeout(IDLE_S * 3)
            assert s.recv(1024) == b""
    finally:
        trickle.close()
        for s in silent:
            s.close()
    assert "Traceback" not in service.output()


def test_the_http_stack_is_a_declared_dependency() -> None:
    """A fresh clone (scripts/_venv.sh, the Dockerfile's wheels) installs what aimport.web.server imports."""
    import tomllib

    deps = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("[")[0].split("=")[0].strip() for d in deps}
    assert {"starlette", "hypercorn"} <= names


def test_the_guard_answers_every_request_with_its_headers(caplog: pytest.LogCaptureFixture) -> None:
    """aimport.web.guard around a real Starlette app (in-process): a route that fails is a JSON 500 and one ERROR
    line, never a dropped connection; methods outside the rule are 405 before any route; every answer carries
    the security headers."""
    import httpx
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from aimport.web.guard import SECURITY_HEADERS, Guard

    async def broken(request: object) -> PlainTextResponse:
        raise RuntimeError("boom")

    async def fine(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/broken", broken), Route("/fine", fine, methods=["GET", "POST"])],
                    middleware=[Middleware(Guard)])
    async def check() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            r = await client.get("/broken")
            assert r.status_code == 500 and r.json() == {"error": "internal error: the service log says more"}
            for name, value in SECURITY_HEADERS:
                assert r.headers[name] == value
            assert [m for m in caplog.messages if "boom" in m] == ["jobs view: cannot answer /broken: RuntimeError: boom"]
            r = await client.get("/fine")
            assert r.text == "ok" and r.headers["x-frame-options"] == "DENY"
            r = await client.post("/fine")
            assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD" and "error" in r.json()
            r = await client.get("/api/actions/cancel")
            assert r.status_code == 405 and r.headers["allow"] == "POST"
            assert (await client.get("/?a=%ff")).status_code == 400

    anyio.run(check)
