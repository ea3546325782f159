"""``--http HOST:PORT``: /healthz, /readyz and /metrics on a minimal HTTP/1.1 server (anyio)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import anyio
from anyio.abc import SocketStream

from aimport import servicelog
from aimport.layout import IMPORT_TYPES

CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"


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


def healthz(svc: Any) -> tuple[int, dict[str, Any]]:
    age = anyio.current_time() - svc.last_beat if svc.last_beat else 0.0
    ok = age < 2.0 and svc.loop_lag_s < 1.0
    return (200 if ok else 503), {"status": "ok" if ok else "stalled", "loop_lag_s": round(svc.loop_lag_s, 4),
                                  "heartbeat_age_s": round(age, 3)}


def readyz(svc: Any, now: float) -> tuple[int, dict[str, Any]]:
    s = svc.settings
    checks: dict[str, bool] = {}
    layout = s.layout
    if s.enabled:
        checks["folders"] = not any(layout.type_problems(t) for t in IMPORT_TYPES)  # real folders, no links
        sched = svc.scheduler
        checks["recent_scan"] = bool(sched and sched.last_scan and now - sched.last_scan < 2 * s.rescan_s + 5)
    checks["export_folder"] = layout.folder_problem(layout.export_dir) is None
    state_disk = getattr(getattr(svc, "ctx", None), "state_disk", None)
    disk = state_disk.problem if state_disk is not None else ""
    checks["state_disk"] = not disk  # audit writes are getting through (false while they wait for space)
    checks["state_writable"] = os.access(s.state_dir, os.W_OK)
    checks["stores"] = all(os.access(p, os.W_OK) for p in (s.system_db, s.audit_db) if p.exists())
    audit = getattr(getattr(svc, "ctx", None), "audit", None)
    if audit is not None and hasattr(audit, "healthy"):
        checks["audit_trail"] = audit.healthy()  # False while a deleted or replaced audit database is not yet recreated
    ok = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
    if disk:
        body["state_disk"] = disk
    return (200 if ok else 503), body


async def handle(svc: Any, stream: SocketStream) -> None:
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
            metrics = svc.extras["metrics"]
            await anyio.to_thread.run_sync(metrics.refresh, svc)
            status, body, ctype = 200, metrics.render(), CONTENT_TYPE_METRICS
        elif path == "/healthz":
            status, payload = healthz(svc)
            body, ctype = json.dumps(payload).encode(), "application/json"
        elif path == "/readyz":
            status, payload = await anyio.to_thread.run_sync(readyz, svc, anyio.current_time())
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


async def serve_http(svc: Any) -> None:
    host, port = parse_address(svc.settings.http)
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    servicelog.get().info(f"HTTP on http://{host}:{port} (/healthz /readyz /metrics)")
    async def guarded(stream: SocketStream) -> None:
        try:
            await handle(svc, stream)
        except Exception:  # noqa: BLE001 - a bad request must never stop the service
            servicelog.get().exception("HTTP request failed")

    async with listener:
        await listener.serve(guarded)
