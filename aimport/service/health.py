"""``--http HOST:PORT``: /healthz, /readyz and /metrics on a minimal HTTP/1.1 server (anyio)."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.abc import Listener, SocketStream

from aimport.layout import IMPORT_TYPES
from aimport.service.holdstate import HeldFile
from aimport.service.statedisk import StateDisk
from aimport.service.storeprobe import StoreProbe
from aimport.settings import Settings
from aimport.store.audit import Audit
from aimport.web import httpio
from aimport.web.auth import OFF
from aimport.web.routes import Site

logger = logging.getLogger(__name__)

__all__ = ["HealthView", "HttpAddressError", "IntakeView", "LoopHealth", "MetricsPage", "healthz", "heartbeat",
           "listen_http", "parse_address", "readyz", "serve_http"]

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


async def heartbeat(loop: LoopHealth, lag_warn_ms: int) -> None:
    """Measures event-loop lag for /healthz: a beat every 250 ms that should arrive on time (a late one is logged)."""
    while True:
        before = anyio.current_time()
        await anyio.sleep(0.25)
        now = anyio.current_time()
        loop.beat(now, max(0.0, now - before - 0.25))
        if loop.lag_s * 1000 > lag_warn_ms:
            logger.warning(f"the event loop was held up for {loop.lag_s * 1000:.0f} ms (health and new "
                                     "claims wait meanwhile)")


class IntakeView(Protocol):
    """What the checks read of detection (aimport.service.lanes.Scheduler has it)."""

    @property
    def last_scan(self) -> float: ...  # anyio clock of the last full folder scan (0: none yet)

    def pending_paths(self) -> list[Path]: ...  # detected and not finished yet (held files left out)

    def held_files(self) -> list[HeldFile]: ...  # held for the end of office hours (aimport.service.holds)


@dataclass
class HealthView:
    """What /healthz, /readyz and /metrics read of the running service."""

    settings: Settings
    limiter: anyio.CapacityLimiter  # the one limit on imports at once
    state_disk: StateDisk | None = None  # audit writes waiting for space
    audit: Audit | None = None
    loop: LoopHealth = field(default_factory=LoopHealth)
    intake: IntakeView | None = None  # set once automatic import runs (after recovery)
    store: StoreProbe | None = None  # the system store's connection check (round trip)
    starting: str = ""  # what start-up is waiting for (the system store ...); "" once the service runs


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
    if not 0 <= number <= 65535:
        raise ValueError(f"--http needs a port from 0 to 65535, not {number}")
    return host, number


class HttpAddressError(Exception):
    """``--http`` names an address this host cannot listen on; the one-line message names it and the flag."""


CHOOSE = "choose another with --http HOST:PORT (AIMPORT_HTTP)"


async def listen_http(address: str) -> Listener[SocketStream]:
    """Listen on ``address`` (HOST:PORT), or :class:`HttpAddressError` saying why not (a port in use, ...)."""
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise HttpAddressError(str(exc)) from None
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        return await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    except OSError as exc:
        if isinstance(exc, socket.gaierror):
            why = f"the host name {host} is not known; {CHOOSE}"
        elif exc.errno == errno.EADDRINUSE:
            why = f"the address is in use (another program, or another aimport, listens on port {port}); {CHOOSE}"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = (f"no network interface of this host has the address {host} (127.0.0.1: this host only, "
                   f"0.0.0.0: all of them); {CHOOSE}")
        elif exc.errno == errno.EACCES:
            why = f"permission denied (a port below 1024 needs privileges); {CHOOSE}"
        else:
            why = f"{exc.strerror or exc}; {CHOOSE}"
        raise HttpAddressError(f"cannot serve HTTP on {shown} (--http): {why}") from None


def healthz(view: HealthView) -> tuple[int, dict[str, Any]]:
    loop = view.loop
    age = anyio.current_time() - loop.last_beat if loop.last_beat else 0.0
    ok = age < 2.0 and loop.lag_s < 1.0
    return (200 if ok else 503), {"status": "ok" if ok else "stalled", "loop_lag_s": round(loop.lag_s, 4),
                                  "heartbeat_age_s": round(age, 3)}


def readyz(view: HealthView, now: float) -> tuple[int, dict[str, Any]]:
    s = view.settings
    checks: dict[str, bool] = {"started": not view.starting} if view.starting else {}
    layout = s.layout
    if s.enabled:
        checks["folders"] = not any(layout.type_problems(t) for t in IMPORT_TYPES)  # real folders, no links
        last_scan = view.intake.last_scan if view.intake is not None else 0.0
        checks["recent_scan"] = bool(last_scan and now - last_scan < 2 * s.rescan_s + 5)
    checks["export_folder"] = layout.folder_problem(layout.export_dir) is None
    disk = view.state_disk.problem if view.state_disk is not None else ""
    checks["state_disk"] = not disk  # audit writes are getting through (false while they wait for space)
    checks["state_writable"] = os.access(s.state_dir, os.W_OK)
    files = [s.audit_db] + ([s.store_address] if isinstance(s.store_address, Path) else [])
    checks["stores"] = all(os.access(p, os.W_OK) for p in files if p.exists())
    store = view.store.check() if view.store is not None else None
    if store is not None:
        checks["system_store"] = store.ok  # one round trip (SQLite file or PostgreSQL server) answered
    if view.audit is not None:
        checks["audit_trail"] = view.audit.healthy()  # False while a deleted or replaced audit database is not yet recreated
    ok = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
    if view.starting:
        body["starting"] = view.starting
    if disk:
        body["state_disk"] = disk
    if store is not None and store.problem:
        body["system_store"] = store.problem
    return (200 if ok else 503), body


async def handle(view: HealthView, metrics: MetricsPage, site: Site, stream: SocketStream) -> None:
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
        request = httpio.parse(data)
        path = request.path if request is not None else ""
        if request is None or request.method not in ("GET", "HEAD") or path not in ("/healthz", "/readyz", "/metrics") \
                or (path == "/metrics" and not site.access.metrics_open(request)):
            await site.serve(request, stream)  # the jobs view (aimport.web), and every error answer
            return
        if path == "/metrics":
            await anyio.to_thread.run_sync(metrics.refresh, view)
            status, body, ctype = 200, metrics.render(), CONTENT_TYPE_METRICS
        elif path == "/healthz":
            status, payload = healthz(view)
            body, ctype = json.dumps(payload).encode(), "application/json"
        else:
            status, payload = await anyio.to_thread.run_sync(readyz, view, anyio.current_time())
            body, ctype = json.dumps(payload).encode(), "application/json"
        await httpio.send(stream, request.method, httpio.Response(status, body, ctype, (("Cache-Control", "no-store"),)))


async def serve_http(address: str, listener: Listener[SocketStream], view: HealthView, metrics: MetricsPage) -> None:
    """Serve /healthz, /readyz, /metrics and the jobs view (aimport.web) on ``listener`` (:func:`listen_http`
    of ``address``, HOST:PORT) until cancelled; the listener is closed then."""
    host, port = parse_address(address)
    site = Site(view, host)
    logger.info(f"HTTP on http://{host}:{port} (/healthz /readyz /metrics, jobs view at /)")
    if not site.access.view_on:
        logger.warning(OFF)
    async def guarded(stream: SocketStream) -> None:
        try:
            await handle(view, metrics, site, stream)
        except Exception:
            logger.exception("HTTP request failed")

    async with listener:
        await listener.serve(guarded)
