"""``--http HOST:PORT``: /healthz, /readyz and /metrics on a minimal HTTP/1.1 server (anyio)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.abc import SocketStream

from aimport import servicelog
from aimport.layout import IMPORT_TYPES
from aimport.service.statedisk import StateDisk
from aimport.settings import Settings
from aimport.store.audit import Audit

__all__ = ["HealthView", "IntakeView", "LoopHealth", "MetricsPage", "healthz", "parse_address", "readyz",
           "serve_http"]

CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class LoopHealth:
    """The event loop's heartbeat: written by the service's heartbeat task, read by /healthz and /metrics."""

    lag_s: float = 0.0  # lateness of the last beat
    last_beat: float = 0.0  # anyio clock of the last beat (0: none yet)
    max_lag_s: float = 0.0  # largest lateness since start

    def beat(self, now: float, lag_s: float) -> None:
        self.lag_s, self.last_beat = lag_s, now
        self.max_lag_s = max(self.max_lag_s, lag_s)


class IntakeView(Protocol):
    """What the checks read of detection (aimport.service.lanes.Scheduler has it)."""

    @property
    def last_scan(self) -> float: ...  # anyio clock of the last full folder scan (0: none yet)

    def pending_paths(self) -> list[Path]: ...  # detected and not finished yet


@dataclass
class HealthView:
    """What /healthz, /readyz and /metrics read of the running service."""

    settings: Settings
    limiter: anyio.CapacityLimiter  # the one limit on imports at once
    state_disk: StateDisk | None = None  # audit writes waiting for space
    audit: Audit | None = None
    loop: LoopHealth = field(default_factory=LoopHealth)
    intake: IntakeView | None = None  # set once automatic import runs (after recovery)


class MetricsPage(Protocol):
    """The /metrics page (aimport.service.metrics.Metrics)."""

    def refresh(self, view: HealthView) -> None: ...

    def render(self) -> bytes: ...


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` (loopback when no host is given)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--http needs HOST:PORT, not {text!r}") from None
    return host, number


def healthz(view: HealthView) -> tuple[int, dict[str, Any]]:
    loop = view.loop
    age = anyio.current_time() - loop.last_beat if loop.last_beat else 0.0
    ok = age < 2.0 and loop.lag_s < 1.0
    return (200 if ok else 503), {"status": "ok" if ok else "stalled", "loop_lag_s": round(loop.lag_s, 4),
                                  "heartbeat_age_s": round(age, 3)}


def readyz(view: HealthView, now: float) -> tuple[int, dict[str, Any]]:
    s = view.settings
    checks: dict[str, bool] = {}
    layout = s.layout
    if s.enabled:
        checks["folders"] = not any(layout.type_problems(t) for t in IMPORT_TYPES)  # real folders, no links
        last_scan = view.intake.last_scan if view.intake is not None else 0.0
        checks["recent_scan"] = bool(last_scan and now - last_scan < 2 * s.rescan_s + 5)
    checks["export_folder"] = layout.folder_problem(layout.export_dir) is None
    disk = view.state_disk.problem if view.state_disk is not None else ""
    checks["state_disk"] = not disk  # audit writes are getting through (false while they wait for space)
    checks["state_writable"] = os.access(s.state_dir, os.W_OK)
    checks["stores"] = all(os.access(p, os.W_OK) for p in (s.system_db, s.audit_db) if p.exists())
    if view.audit is not None:
        checks["audit_trail"] = view.audit.healthy()  # False while a deleted or replaced audit database is not yet recreated
    ok = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
    if disk:
        body["state_disk"] = disk
    return (200 if ok else 503), body


async def handle(view: HealthView, metrics: MetricsPage, stream: SocketStream) -> None:
    async with stream:
        try:
            with anyio.fail_after(10):
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 16384:
                    chunk = await stream.receive(4096)
                    if not chunk:
                        return
                    data += chunk
        except (TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError):
            return
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        method, path = (parts[0], parts[1].split("?")[0]) if len(parts) >= 2 else ("", "")
        if method not in ("GET", "HEAD"):
            status, body, ctype = 405, b'{"error": "method not allowed"}', "application/json"
        elif path == "/metrics":
            await anyio.to_thread.run_sync(metrics.refresh, view)
            status, body, ctype = 200, metrics.render(), CONTENT_TYPE_METRICS
        elif path == "/healthz":
            status, payload = healthz(view)
            body, ctype = json.dumps(payload).encode(), "application/json"
        elif path == "/readyz":
            status, payload = await anyio.to_thread.run_sync(readyz, view, anyio.current_time())
            body, ctype = json.dumps(payload).encode(), "application/json"
        else:
            status, body, ctype = 404, b'{"error": "not found"}', "application/json"
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}\r\n\r\n")
        try:
            await stream.send(head.encode() + (b"" if method == "HEAD" else body))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass


async def serve_http(address: str, view: HealthView, metrics: MetricsPage) -> None:
    """Serve /healthz, /readyz and /metrics on ``address`` (HOST:PORT) until cancelled."""
    host, port = parse_address(address)
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    servicelog.get().info(f"HTTP on http://{host}:{port} (/healthz /readyz /metrics)")
    async def guarded(stream: SocketStream) -> None:
        try:
            await handle(view, metrics, stream)
        except Exception:  # noqa: BLE001 - a bad request must never stop the service
            servicelog.get().exception("HTTP request failed")

    async with listener:
        await listener.serve(guarded)
