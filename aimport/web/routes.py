"""The jobs view's URLs (read-only: GET and HEAD; anything else is 405).

    /                       the page (also /imports/<id>: the same page shows one import); ?type=&status=
    /static/<asset>         its script and style sheet (open: they hold no data)
    /api/summary            queued (held files too, marked), in process with progress, figures at a glance
    /api/imports            recent imports, newest first; ?type=Skills&status=failed&limit=50
    /api/imports/<id>       one import: its audit row and events, a page of its .log lines and one of its
                            rejected rows, with their totals; ?log_offset=&log_limit=&rejected_offset=&rejected_limit=
    /api/campaigns          every campaign: status, customers handled / total, calls, export file
    /api/events             server-sent events: ``change`` whenever the above changed

Each path declares its query parameters (:mod:`aimport.web.params`): anything else, or a malformed value, is
a 400 with a short reason. Every answer with data is built (read, paged, JSON-encoded) in a worker thread, at
most VIEW_THREADS at once, so no request holds the event loop that /healthz and the imports share; a request
that fails unexpectedly is a 500 (logged), never a connection closed without an answer.

/healthz, /readyz and /metrics are answered by :mod:`aimport.service.health`, which hands everything else here.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from functools import cache
from importlib import resources
from typing import Any

import anyio
from anyio.abc import SocketStream

from aimport.layout import IMPORT_TYPES
from aimport.web import jobsdata, params
from aimport.web.auth import Access
from aimport.web.events import Streams, serve_events
from aimport.web.httpio import Request, Response, error, json_response, send
from aimport.web.importlog import LOG_PAGE, LOG_PAGE_MAX, REJECTED_PAGE, REJECTED_PAGE_MAX

logger = logging.getLogger(__name__)

__all__ = ["Site"]

ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
PAGE = re.compile(r"/(?:imports/[0-9]{1,12})?")
ONE_IMPORT = re.compile(r"/api/imports/([0-9]{1,12})")
AN_IMPORT = re.compile(r"/(?:api/)?imports/[^/]*")  # where an import id goes: anything but 1 to 12 digits is a 400
MAX_LIMIT = 500
VIEW_THREADS = 4  # answers built at once; more requests wait for a turn without holding anything
OFFSET_MAX = 10**9
FILTERS: params.Spec = {"type": params.Choice(IMPORT_TYPES), "status": params.Choice(jobsdata.STATUSES)}
NONE: params.Spec = {}
IMPORTS: params.Spec = {**FILTERS, "limit": params.Number(1, MAX_LIMIT, 50)}
DETAIL: params.Spec = {"log_offset": params.Number(0, OFFSET_MAX, 0),
                       "log_limit": params.Number(1, LOG_PAGE_MAX, LOG_PAGE),
                       "rejected_offset": params.Number(0, OFFSET_MAX, 0),
                       "rejected_limit": params.Number(1, REJECTED_PAGE_MAX, REJECTED_PAGE)}


@cache
def _static(name: str) -> bytes:
    return (resources.files("aimport.web") / "static" / name).read_bytes()


def spec_of(path: str) -> params.Spec | None:
    """The parameters ``path`` takes (None: no such path)."""
    if PAGE.fullmatch(path):
        return FILTERS if path == "/" else NONE
    if path == "/api/imports":
        return IMPORTS
    if ONE_IMPORT.fullmatch(path):
        return DETAIL
    if path in ("/api/summary", "/api/campaigns", "/api/events") or path.removeprefix("/static/") in ASSETS:
        return NONE
    return None


class Site:
    """The jobs view of one running service, behind one HTTP endpoint."""

    def __init__(self, view: jobsdata.ServiceView, listen_host: str) -> None:
        self.view = view
        self.access = Access.of(view.settings, listen_host)
        self.streams = Streams()
        self.threads = anyio.CapacityLimiter(VIEW_THREADS)

    async def serve(self, request: Request | None, stream: SocketStream) -> None:
        """Answer one request (None: it could not be parsed)."""
        try:
            if request is not None and request.path == "/api/events" and request.method in ("GET", "HEAD") \
                    and self.access.check(request) is None:
                got = params.read(request, NONE)
                if not isinstance(got, Response):
                    await serve_events(self.view, self.streams, request, stream)
                    return
                response = got
            else:
                response = await self.answer(request)
        except Exception as exc:  # noqa: BLE001 - a request must get an answer and never stop the service
            where = request.path if request is not None else "?"
            logger.error(f"jobs view: cannot answer {where[:80]}: {type(exc).__name__}: {exc}")
            response = error(500, "internal error: the service log says more")
        await send(stream, request.method if request is not None else "GET", response)

    async def answer(self, request: Request | None) -> Response:
        if request is None:
            return error(400, "bad request: a malformed request line, header or query")
        if request.method not in ("GET", "HEAD"):
            return error(405, "the jobs view is read-only", ("Allow", "GET, HEAD"))
        path = request.path
        spec = spec_of(path)
        if path.startswith("/static/"):
            if spec is None:
                return error(404, "not found")
            bad = params.read(request, spec)
            if isinstance(bad, Response):
                return bad
            name = path.removeprefix("/static/")
            return Response(200, _static(name), ASSETS[name], (("Cache-Control", "no-cache"),))
        denied = self.access.check(request)
        if PAGE.fullmatch(path):
            page = _static("index.html")
            if denied is not None and denied.status == 401:  # the page itself asks for the token
                return Response(401, page, "text/html; charset=utf-8", (*denied.headers,))
            if denied is not None:
                return denied
            bad = params.read(request, spec or NONE)
            if isinstance(bad, Response):
                return bad
            return Response(200, page, "text/html; charset=utf-8", (("Cache-Control", "no-cache"),))
        if denied is not None and (path.startswith("/api/") or path == "/metrics" or AN_IMPORT.fullmatch(path)):
            return denied
        if spec is None and AN_IMPORT.fullmatch(path):
            return error(400, "an import id is a number (ASCII digits, at most 12)")
        if spec is None:
            return error(404, "not found")
        got = params.read(request, spec)
        if isinstance(got, Response):
            return got
        try:
            return await self._api(path, got)
        except (sqlite3.Error, OSError) as exc:
            logger.warning(f"jobs view: cannot read the audit trail now: {exc}")
            return error(503, "the audit trail cannot be read now; try again")

    async def _in_thread(self, build: Callable[..., Response], *args: Any) -> Response:
        return await anyio.to_thread.run_sync(build, *args, limiter=self.threads)

    async def _api(self, path: str, q: dict[str, int | str]) -> Response:
        if path == "/api/summary":
            return await self._in_thread(_summary, self.view, self.streams.open)
        if path == "/api/imports":
            return await self._in_thread(_imports, self.view, str(q["type"]), str(q["status"]), int(q["limit"]))
        one = ONE_IMPORT.fullmatch(path)
        if one:
            pages = jobsdata.Pages(int(q["log_offset"]), int(q["log_limit"]), int(q["rejected_offset"]),
                                   int(q["rejected_limit"]))
            return await self._in_thread(_detail, self.view, int(one[1]), pages)
        if path == "/api/campaigns":
            try:
                return await self._in_thread(_campaigns, self.view)
            except Exception as exc:  # noqa: BLE001 - the store may be unreachable: the page says so, the rest still works
                logger.warning(f"jobs view: cannot read the campaigns now: {type(exc).__name__}")
                return error(503, "the system store cannot be read now; try again")
        return error(404, "not found")


# --- answers, each built whole in a worker thread -------------------------------------------------------------

def _summary(view: jobsdata.ServiceView, streams_open: int) -> Response:
    body = asdict(jobsdata.summary(view))
    body["event_streams"] = streams_open
    return json_response(body)


def _imports(view: jobsdata.ServiceView, import_type: str, status: str, limit: int) -> Response:
    return json_response({"imports": jobsdata.imports(view.settings, import_type, status, limit)})


def _detail(view: jobsdata.ServiceView, import_id: int, pages: jobsdata.Pages) -> Response:
    detail = jobsdata.import_detail(view.settings, import_id, pages)
    return json_response(asdict(detail)) if detail is not None else error(404, "no such import")


def _campaigns(view: jobsdata.ServiceView) -> Response:
    return json_response({"campaigns": jobsdata.campaigns(view.settings)})
