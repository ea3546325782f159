"""The HTTP endpoint (``--http HOST:PORT``): the Starlette app, served by Hypercorn inside the service's task group.

:func:`listen_http` binds the address first (a port in use stops the start with one line naming it);
:func:`serve_http` serves the app on it until the service's task group is cancelled. The service keeps its
own SIGTERM/SIGINT handling and its ordered shutdown: Hypercorn is given a ``shutdown_trigger`` (so it
installs no signal handlers), and cancelling :func:`serve_http` ends the live-update streams, then lets
Hypercorn close its sockets and finish the answers in flight (at most GRACE_S).

What Hypercorn bounds for us, on h11: a request head of more than 16 KiB is refused (431, or 400 when it is
malformed); a connection that has not sent a whole request head within IDLE_S (a client sending its headers
a byte at a time, or nothing) is closed, as is one idle that long between requests. What the app bounds:
:mod:`aimport.web.guard` (methods, malformed targets, security headers), :mod:`aimport.web.auth` (who),
:mod:`aimport.web.events` (live-update streams), :mod:`aimport.web.actions` (request bodies).
"""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass, field

import anyio
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from aimport.service.health import HealthView, MetricsPage
from aimport.web import actions
from aimport.web.auth import OFF
from aimport.web.guard import Guard
from aimport.web.routes import Site, not_found

logger = logging.getLogger(__name__)
hypercorn_log = logging.getLogger(__name__ + ".hypercorn")  # Hypercorn's own lines: its warnings and errors only
hypercorn_log.setLevel(logging.WARNING)

__all__ = ["HttpAddressError", "Listening", "build_app", "listen_http", "parse_address", "serve_http"]

IDLE_S = 10.0  # a connection without a whole request head (or idle between requests) this long is closed
MAX_HEAD = 16384  # bytes of a request line and headers
GRACE_S = 5.0  # answers in flight when the service stops
CHOOSE = "choose another with --http HOST:PORT (AIMPORT_HTTP)"


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


@dataclass
class Listening:
    """The sockets bound for ``--http`` (one per address the host name has), not served yet."""

    host: str
    port: int
    sockets: list[socket.socket] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def close(self) -> None:
        for s in self.sockets:
            s.close()


async def listen_http(address: str) -> Listening:
    """Listen on ``address`` (HOST:PORT), or :class:`HttpAddressError` saying why not (a port in use, ...)."""
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise HttpAddressError(str(exc)) from None
    listening = Listening(host, port)
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, _, _, _, sockaddr in dict.fromkeys((i[0], 0, 0, "", i[4]) for i in infos):
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            s = socket.socket(family, socket.SOCK_STREAM)
            listening.sockets.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.bind(sockaddr)
            s.listen(128)
    except OSError as exc:
        listening.close()
        raise HttpAddressError(f"cannot serve HTTP on {listening.shown} (--http): {_why(exc, host, port)}") from None
    return listening


def _why(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return f"the host name {host} is not known; {CHOOSE}"
    if exc.errno == errno.EADDRINUSE:
        return f"the address is in use (another program, or another aimport, listens on port {port}); {CHOOSE}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"no network interface of this host has the address {host} (127.0.0.1: this host only, "
                f"0.0.0.0: all of them); {CHOOSE}")
    if exc.errno == errno.EACCES:
        return f"permission denied (a port below 1024 needs privileges); {CHOOSE}"
    return f"{exc.strerror or exc}; {CHOOSE}"


def build_app(site: Site) -> Starlette:
    """The Starlette app of ``site``: its routes, the actions, a JSON 404 for any other path, behind the guard."""
    routes = [*site.routes(), *actions.routes(site), Route("/{rest:path}", not_found, methods=["GET", "POST"])]
    return Starlette(routes=routes, middleware=[Middleware(Guard)])


def _config(listening: Listening) -> Config:
    config = Config()
    config.bind = [f"fd://{s.detach()}" for s in listening.sockets]  # Hypercorn owns (and closes) them now
    listening.sockets.clear()
    config.keep_alive_timeout = IDLE_S
    config.h11_max_incomplete_size = MAX_HEAD
    config.graceful_timeout = GRACE_S
    config.include_server_header = False
    config.accesslog = None
    config.errorlog = hypercorn_log
    return config


async def serve_http(address: str, listening: Listening, view: HealthView, metrics: MetricsPage) -> None:
    """Serve the app on ``listening`` (:func:`listen_http` of ``address``) until cancelled; then stop it in order:
    live-update streams end, the sockets close, answers in flight finish (at most GRACE_S)."""
    site = Site(view, metrics, listening.host)
    app = build_app(site)
    config = _config(listening)
    logger.info(f"HTTP on http://{listening.shown} (/healthz /readyz /metrics, jobs view at /)")
    if not site.access.view_on:
        logger.warning(OFF)
    stop = anyio.Event()
    shield = anyio.CancelScope(shield=True)

    async def run() -> None:
        with shield:  # Hypercorn stops when told (below), not in the middle of an answer
            await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        try:
            await anyio.sleep_forever()
        finally:
            site.streams.closing.set()
            stop.set()
            shield.deadline = anyio.current_time() + GRACE_S + 5
