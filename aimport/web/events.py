"""Live updates of the jobs view: server-sent events at /api/events.

Each open page holds one stream. Once a second the stream compares a fingerprint of what the page shows
(:func:`aimport.web.jobsdata.version`, read in a worker thread) and sends ``event: change`` when it moved;
a comment line every 15 s keeps proxies from closing an idle stream. A stream ends when the client goes
away (noticed at once: its side of the connection is read meanwhile), when a send is stuck for 10 s, or
after 5 minutes (EventSource connects again by itself), or when the service stops, so no task outlives
its client for long. At most 16 streams are open at once; more get 503 and the page falls back to polling.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import anyio
from anyio import CancelScope
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from aimport.web import jobsdata
from aimport.web.answers import error

logger = logging.getLogger(__name__)

__all__ = ["MAX_STREAMS", "EventStream", "Streams"]

POLL_S = 1.0
KEEPALIVE_S = 15.0
LIFETIME_S = 300.0
SEND_TIMEOUT_S = 10.0
MAX_STREAMS = 16
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
           (b"x-accel-buffering", b"no")]


@dataclass
class Streams:
    """The live-update streams of one HTTP endpoint (/api/summary shows how many are open); ``closing`` ends
    them all (the service stops)."""

    open: int = 0
    closing: anyio.Event = field(default_factory=anyio.Event)


class EventStream(Response):
    """The answer of /api/events: a stream of ``change`` events (an ASGI answer of its own)."""

    def __init__(self, view: jobsdata.ServiceView, streams: Streams) -> None:
        super().__init__(status_code=200)
        self.view, self.streams = view, streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.streams.open >= MAX_STREAMS:
            await error(503, "too many live-update streams open; the page polls instead",
                        ("Retry-After", "30"))(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        self.streams.open += 1
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_until_disconnected, receive, tg.cancel_scope)
                tg.start_soon(_until_closing, self.streams.closing, tg.cancel_scope)
                await _send(send, b"retry: 3000\n\n")
                await _push(self.view, send)
                tg.cancel_scope.cancel()
            with anyio.move_on_after(SEND_TIMEOUT_S):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client went away or stopped reading
        finally:
            self.streams.open -= 1


async def _send(send: Send, data: bytes) -> None:
    with anyio.fail_after(SEND_TIMEOUT_S):
        await send({"type": "http.response.body", "body": data, "more_body": True})


async def _until_disconnected(receive: Receive, scope: CancelScope) -> None:
    """Read (and drop) what the client sends until it goes away; then end the stream."""
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _until_closing(closing: anyio.Event, scope: CancelScope) -> None:
    await closing.wait()
    scope.cancel()


async def _push(view: jobsdata.ServiceView, send: Send) -> None:
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
            await _send(send, f"event: change\ndata: {json.dumps({'version': now})}\n\n".encode())
            quiet_since = anyio.current_time()
        elif anyio.current_time() - quiet_since >= KEEPALIVE_S:
            await _send(send, b": ping\n\n")
            quiet_since = anyio.current_time()
        await anyio.sleep(POLL_S)
