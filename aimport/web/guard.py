"""What every request meets before a route and every answer carries after it (an ASGI middleware).

- Only HTTP/1.x (Hypercorn also speaks HTTP/2 in the clear; the jobs view does not need it) and no WebSocket.
- A request that is not well-formed (:func:`aimport.web.request.request_of`) is a 400.
- The methods: GET and HEAD everywhere, POST only on the action paths (``/api/actions/...``); anything else
  is a 405 naming what is allowed. (Who may call a path is the route's rule: :mod:`aimport.web.auth`.)
- Every answer gets the security headers: the page loads only what aimport serves, nothing may frame it,
  answers are never sniffed as another type, no referrer leaves.
- A route that fails unexpectedly is a 500 with a JSON reason and one ERROR line, never a dropped connection
  or a stopped service.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aimport.web.answers import error
from aimport.web.request import SCOPE_KEY, request_of

logger = logging.getLogger(__name__)

__all__ = ["ACTIONS", "SECURITY_HEADERS", "Guard"]

ACTIONS = "/api/actions/"  # the paths that change something (POST); everything else is read-only
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
CLOSE = ("Connection", "close")
_RAW_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS]


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan
            return
        started = False

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *_RAW_HEADERS]}
            await send(message)

        refused = _refusal(scope)
        if refused is not None:
            await refused(scope, receive, secured)
            return
        try:
            await self.app(scope, receive, secured)
        except Exception as exc:  # noqa: BLE001 - a request must get an answer and never stop the service
            request = scope.get(SCOPE_KEY)
            where = request.path[:80] if request is not None else "?"
            logger.error(f"jobs view: cannot answer {where}: {type(exc).__name__}: {exc}")
            if not started:
                await error(500, "internal error: the service log says more")(scope, receive, secured)


def _refusal(scope: Scope) -> Any:
    """The answer to a request no route may see (None: it goes on), the parsed request left in the scope."""
    if scope.get("http_version") not in ("1.0", "1.1"):
        return error(505, "HTTP/1.1 only", CLOSE)
    request = request_of(scope)
    if request is None:  # nothing more is read from a client that sent this: the connection is closed
        return error(400, "bad request: a malformed request line, header or query", CLOSE)
    scope[SCOPE_KEY] = request
    if request.path.startswith(ACTIONS):
        if request.method != "POST":
            return error(405, "an action is a POST", ("Allow", "POST"))
    elif request.method not in ("GET", "HEAD"):
        return error(405, "the jobs view is read-only (actions are POSTs to /api/actions/...)", ("Allow", "GET, HEAD"))
    return None
