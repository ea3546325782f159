"""The jobs view's URLs (read-only: GET and HEAD; anything else is 405).

    /                       the page (also /imports/<id>: the same page shows one import)
    /static/<asset>         its script and style sheet (open: they hold no data)
    /api/summary            queued (held files too), in process with progress, figures at a glance
    /api/imports            recent imports, newest first; ?type=Skills&status=failed&limit=50
    /api/imports/<id>       one import: its audit row and events, its .log lines, its rejected rows
    /api/campaigns          every campaign: status, customers handled / total, calls, export file
    /api/events             server-sent events: ``change`` whenever the above changed

/healthz, /readyz and /metrics are answered by :mod:`aimport.service.health`, which hands everything else here.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict
from functools import cache
from importlib import resources

import anyio
from anyio.abc import SocketStream

from aimport import servicelog
from aimport.layout import IMPORT_TYPES
from aimport.web import jobsdata
from aimport.web.auth import Access
from aimport.web.events import Streams, serve_events
from aimport.web.httpio import Request, Response, error, json_response, send

__all__ = ["Site"]

ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
PAGE = re.compile(r"/(?:imports/\d{1,12})?")
ONE_IMPORT = re.compile(r"/api/imports/(\d{1,12})")
MAX_LIMIT = 500


@cache
def _static(name: str) -> bytes:
    return (resources.files("aimport.web") / "static" / name).read_bytes()


class Site:
    """The jobs view of one running service, behind one HTTP endpoint."""

    def __init__(self, view: jobsdata.ServiceView, listen_host: str) -> None:
        self.view = view
        self.access = Access.of(view.settings, listen_host)
        self.streams = Streams()

    async def serve(self, request: Request | None, stream: SocketStream) -> None:
        """Answer one request (None: it could not be parsed)."""
        if request is not None and request.path == "/api/events" and request.method in ("GET", "HEAD") \
                and self.access.check(request) is None:
            await serve_events(self.view, self.streams, request, stream)
            return
        response = await self.answer(request)
        await send(stream, request.method if request is not None else "GET", response)

    async def answer(self, request: Request | None) -> Response:
        if request is None:
            return error(400, "bad request")
        if request.method not in ("GET", "HEAD"):
            return error(405, "the jobs view is read-only", ("Allow", "GET, HEAD"))
        path = request.path
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            if name not in ASSETS:
                return error(404, "not found")
            return Response(200, _static(name), ASSETS[name], (("Cache-Control", "no-cache"),))
        denied = self.access.check(request)
        if PAGE.fullmatch(path):
            page = _static("index.html")
            if denied is not None and denied.status == 401:  # the page itself asks for the token
                return Response(401, page, "text/html; charset=utf-8", (*denied.headers,))
            return denied or Response(200, page, "text/html; charset=utf-8", (("Cache-Control", "no-cache"),))
        if denied is not None and (path.startswith("/api/") or path == "/metrics"):
            return denied
        if not path.startswith("/api/"):
            return error(404, "not found")
        try:
            return await self._api(request)
        except (sqlite3.Error, OSError) as exc:
            servicelog.get().warning(f"jobs view: cannot read the audit trail now: {exc}")
            return error(503, "the audit trail cannot be read now; try again")

    async def _api(self, request: Request) -> Response:
        path, q = request.path, request.query
        if path == "/api/summary":
            data = await anyio.to_thread.run_sync(jobsdata.summary, self.view)
            body = asdict(data)
            body["event_streams"] = self.streams.open
            return json_response(body)
        if path == "/api/imports":
            import_type, status, limit = q.get("type", ""), q.get("status", ""), q.get("limit", "50")
            if import_type and import_type not in IMPORT_TYPES:
                return error(400, f"type must be one of {', '.join(IMPORT_TYPES)}")
            if status and status not in jobsdata.STATUSES:
                return error(400, f"status must be one of {', '.join(jobsdata.STATUSES)}")
            if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
                return error(400, f"limit must be a number from 1 to {MAX_LIMIT}")
            rows = await anyio.to_thread.run_sync(jobsdata.imports, self.view.settings, import_type, status, int(limit))
            return json_response({"imports": rows})
        one = ONE_IMPORT.fullmatch(path)
        if one:
            detail = await anyio.to_thread.run_sync(jobsdata.import_detail, self.view.settings, int(one[1]))
            return json_response(asdict(detail)) if detail is not None else error(404, "no such import")
        if path == "/api/campaigns":
            try:
                found = await anyio.to_thread.run_sync(jobsdata.campaigns, self.view.settings)
            except Exception as exc:  # noqa: BLE001 - the store may be unreachable: the page says so, the rest still works
                servicelog.get().warning(f"jobs view: cannot read the campaigns now: {type(exc).__name__}")
                return error(503, "the system store cannot be read now; try again")
            return json_response({"campaigns": found})
        return error(404, "not found")
