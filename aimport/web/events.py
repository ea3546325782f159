"""Live updates of the jobs view: server-sent events at /api/events.

Each open page holds one stream. Once a second the stream compares a fingerprint of what the page shows
(:func:`aimport.web.jobsdata.version`, read in a worker thread) and sends ``event: change`` when it moved;
a comment line every 15 s keeps proxies from closing an idle stream. A stream ends when the client goes
away (noticed at once: its side of the connection is read meanwhile), when a send is stuck for 10 s, or
after 5 minutes (EventSource connects again by itself), so no task outlives its client for long. At
most 16 streams are open at once; more get 503 and the page falls back to polling.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import anyio
from anyio import CancelScope
from anyio.abc import SocketStream

from aimport.web import jobsdata
from aimport.web.httpio import Request, error, head_bytes, send

logger = logging.getLogger(__name__)

__all__ = ["MAX_STREAMS", "Streams", "serve_events"]

POLL_S = 1.0
KEEPALIVE_S = 15.0
LIFETIME_S = 300.0
SEND_TIMEOUT_S = 10.0
MAX_STREAMS = 16


@dataclass
class Streams:
    """The live-update streams open now (one count per HTTP endpoint; /api/summary shows it)."""

    open: int = 0


async def serve_events(view: jobsdata.ServiceView, streams: Streams, request: Request, stream: SocketStream) -> None:
    if streams.open >= MAX_STREAMS:
        await send(stream, request.method, error(503, "too many live-update streams open; the page polls instead",
                                                 ("Retry-After", "30")))
        return
    head = head_bytes(200, "text/event-stream; charset=utf-8", None,
                      (("Cache-Control", "no-store"), ("X-Accel-Buffering", "no")))
    if request.method == "HEAD":
        await send_raw(stream, head)
        return
    streams.open += 1
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_until_closed, stream, tg.cancel_scope)
            await send_raw(stream, head + b"retry: 3000\n\n")
            await _push(view, stream)
            tg.cancel_scope.cancel()
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, TimeoutError):
        pass  # the client went away or stopped reading
    finally:
        streams.open -= 1


async def send_raw(stream: SocketStream, data: bytes) -> None:
    with anyio.fail_after(SEND_TIMEOUT_S):
        await stream.send(data)


async def _until_closed(stream: SocketStream, scope: CancelScope) -> None:
    """Read (and drop) what the client sends until it closes its side; then end the stream."""
    try:
        while True:
            await stream.receive(1024)
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    scope.cancel()


async def _push(view: jobsdata.ServiceView, stream: SocketStream) -> None:
    last, quiet_since = "", anyio.current_time()
    deadline = anyio.current_time() + LIFETIME_S
    while anyio.current_time() < deadline:
        try:
            now = await anyio.to_thread.run_sync(jobsdata.version, view)
        except Exception:
            logger.debug("live update: cannot read the state now", exc_info=True)
            now = last
        if now != last:
            last = now
            await send_raw(stream, f"event: change\ndata: {json.dumps({'version': now})}\n\n".encode())
            quiet_since = anyio.current_time()
        elif anyio.current_time() - quiet_since >= KEEPALIVE_S:
            await send_raw(stream, b": ping\n\n")
            quiet_since = anyio.current_time()
        await anyio.sleep(POLL_S)
