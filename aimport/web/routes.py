"""The HTTP endpoint's URLs as Starlette routes: the jobs view (read-only: GET and HEAD), the health checks, the actions.

    /                       the page (also /imports/<id>: the same page shows one import); ?type=&status=
    /static/<asset>         its script and style sheet (open: they hold no data)
    /api/summary            queued (held files too, marked), in process with progress, figures at a glance
    /api/imports            recent imports, newest first; ?type=Skills&status=failed&limit=50
    /api/imports/<id>       one import: its audit row and events, a page of its .log lines and one of its
                            rejected rows, with their totals; ?log_offset=&log_limit=&rejected_offset=&rejected_limit=
    /api/imports/<id>/rejected  a partial import's rejected rows file, to save (aimport.web.rejectedfile)
    /api/imports/<id>/changes   what the import changed, a page at a time: the JSON of ``aimport changes ID --json``;
                            ?offset=&limit= (aimport.web.changes)
    /api/imports/<id>/revert-preview  what its revert would do (counts, conflicts, refusal), run and rolled back
                            under the store's write turn; ?force=true (aimport.web.revertaction); one at a time,
                            in a thread of its own: waiting for the turn never takes one of the view's threads
    /api/campaigns          every campaign: status, customers handled / total, calls, export file
    /api/events             server-sent events: ``change`` whenever the above changed (aimport.web.events)
    /api/actions/<name>     POST: release, retry, cancel, revert (aimport.web.actions)
    /healthz /readyz        the service's health and readiness (aimport.service.health): always open
    /metrics                Prometheus metrics (open unless metrics_public is false)

Each path declares its query parameters (:mod:`aimport.web.params`): anything else, or a malformed value, is
a 400 with a short reason. Every answer with data is built (read, paged, JSON-encoded) in a worker thread, at
most VIEW_THREADS at once, so no request holds the event loop that /healthz and the imports share. Methods,
malformed requests, security headers and unexpected failures are :mod:`aimport.web.guard`'s; who may read
is :mod:`aimport.web.auth`'s.
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
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from aimport.layout import IMPORT_TYPES
from aimport.service.health import HealthView, MetricsPage, healthz, readyz
from aimport.web import jobsdata, params, rejectedfile
from aimport.web.answers import error, json_answer
from aimport.web.auth import Access
from aimport.web.changes import CHANGES, changes_response
from aimport.web.events import EventStream, Streams
from aimport.web.logpages import LOG_PAGE, LOG_PAGE_MAX, REJECTED_PAGE, REJECTED_PAGE_MAX
from aimport.web.request import SCOPE_KEY, Request
from aimport.web.revertaction import REVERT_PREVIEW, revert_preview_response

logger = logging.getLogger(__name__)

__all__ = ["VIEW_THREADS", "Site", "request_in"]

ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8",
          "favicon.svg": "image/svg+xml"}
AN_ID = re.compile(r"[0-9]{1,12}")
MAX_LIMIT = 500
VIEW_THREADS = 4  # answers built at once; more requests wait for a turn without holding anything
OFFSET_MAX = 10**9
CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"
FILTERS: params.Spec = {"type": params.Choice(IMPORT_TYPES), "status": params.Choice(jobsdata.STATUSES)}
NONE: params.Spec = {}
IMPORTS: params.Spec = {**FILTERS, "limit": params.Number(1, MAX_LIMIT, 50)}
DETAIL: params.Spec = {"log_offset": params.Number(0, OFFSET_MAX, 0),
                       "log_limit": params.Number(1, LOG_PAGE_MAX, LOG_PAGE),
                       "rejected_offset": params.Number(0, OFFSET_MAX, 0),
                       "rejected_limit": params.Number(1, REJECTED_PAGE_MAX, REJECTED_PAGE)}
BAD_ID = "an import id is a number (ASCII digits, at most 12)"


@cache
def _static(name: str) -> bytes:
    return (resources.files("aimport.web") / "static" / name).read_bytes()


def request_in(request: StarletteRequest) -> Request:
    """The request as :mod:`aimport.web.guard` parsed it."""
    parsed: Request = request.scope[SCOPE_KEY]
    return parsed


class Site:
    """The pages and checks of one running service, behind one HTTP endpoint."""

    def __init__(self, view: HealthView, metrics: MetricsPage, listen_host: str) -> None:
        self.view = view
        self.metrics_page = metrics
        self.access = Access.of(view.settings, listen_host)
        self.streams = Streams()
        self.threads = anyio.CapacityLimiter(VIEW_THREADS)
        self.previews = anyio.CapacityLimiter(1)  # a revert preview waits for the write turn: never in a view thread

    def routes(self) -> list[BaseRoute]:
        """Every path but the actions (aimport.web.actions) and the catch-all 404."""
        return [Route("/", self.page), Route("/imports/{id}", self.page), Route("/static/{name}", self.static),
                Route("/healthz", self.healthz), Route("/readyz", self.readyz), Route("/metrics", self.metrics),
                Route("/api/summary", self.summary), Route("/api/imports", self.imports),
                Route("/api/imports/{id}", self.detail), Route("/api/imports/{id}/rejected", self.rejected),
                Route("/api/imports/{id}/changes", self.changes),
                Route("/api/imports/{id}/revert-preview", self.revert_preview),
                Route("/api/campaigns", self.campaigns),
                Route("/api/events", self.events)]

    async def in_thread(self, build: Callable[..., Response], *args: Any) -> Response:
        return await anyio.to_thread.run_sync(build, *args, limiter=self.threads)

    # --- open to all -------------------------------------------------------------------------------------------

    async def static(self, request: StarletteRequest) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return error(404, "not found")
        bad = params.read(request_in(request), NONE)
        if isinstance(bad, Response):
            return bad
        return Response(_static(name), 200, {"Cache-Control": "no-cache"}, ASSETS[name])

    async def healthz(self, request: StarletteRequest) -> Response:
        status, payload = healthz(self.view)
        return json_answer(payload, status)

    async def readyz(self, request: StarletteRequest) -> Response:
        status, payload = await anyio.to_thread.run_sync(readyz, self.view, anyio.current_time())
        return json_answer(payload, status)

    async def metrics(self, request: StarletteRequest) -> Response:
        r = request_in(request)
        if not self.access.metrics_open(r):
            return self.access.check(r) or error(403, "forbidden")
        await anyio.to_thread.run_sync(self.metrics_page.refresh, self.view)
        return Response(self.metrics_page.render(), 200, {"Cache-Control": "no-store"}, CONTENT_TYPE_METRICS)

    # --- the jobs view (aimport.web.auth decides who may read it) ---------------------------------------------

    async def page(self, request: StarletteRequest) -> Response:
        r = request_in(request)
        one = request.path_params.get("id")
        denied = self.access.check(r)
        if denied is not None and denied.status_code == 401 and (one is None or AN_ID.fullmatch(one)):
            page = _static("index.html")  # the page itself asks for the token
            return Response(page, 401, {"WWW-Authenticate": denied.headers["www-authenticate"]},
                            "text/html; charset=utf-8")
        if denied is not None:
            return denied
        if one is not None and not AN_ID.fullmatch(one):
            return error(400, BAD_ID)
        bad = params.read(r, FILTERS if one is None else NONE)
        if isinstance(bad, Response):
            return bad
        return Response(_static("index.html"), 200, {"Cache-Control": "no-cache"}, "text/html; charset=utf-8")

    async def _api(self, request: StarletteRequest, spec: params.Spec) -> dict[str, int | str] | Response:
        """The parameters of an API request by ``spec``, or the answer when it may not read or is malformed."""
        r = request_in(request)
        denied = self.access.check(r)
        if denied is not None:
            return denied
        return params.read(r, spec)

    async def _one_import(self, request: StarletteRequest, spec: params.Spec) -> Response | tuple[int, dict[str, int | str]]:
        """The import id of an ``/api/imports/<id>/...`` path and the query, or the answer refusing them (no
        access: 401/403; not an id: 400; a bad query: 400)."""
        denied = self.access.check(request_in(request))
        if denied is not None:
            return denied
        one = request.path_params["id"]
        if not AN_ID.fullmatch(one):
            return error(400, BAD_ID)
        q = await self._api(request, spec)
        return q if isinstance(q, Response) else (int(one), q)

    async def summary(self, request: StarletteRequest) -> Response:
        got = await self._api(request, NONE)
        return got if isinstance(got, Response) else await self._reading(_summary, self.view, self.streams.open)

    async def imports(self, request: StarletteRequest) -> Response:
        q = await self._api(request, IMPORTS)
        if isinstance(q, Response):
            return q
        return await self._reading(_imports, self.view, str(q["type"]), str(q["status"]), int(q["limit"]))

    async def detail(self, request: StarletteRequest) -> Response:
        got = await self._one_import(request, DETAIL)
        if isinstance(got, Response):
            return got
        one, q = got
        pages = jobsdata.Pages(int(q["log_offset"]), int(q["log_limit"]), int(q["rejected_offset"]),
                               int(q["rejected_limit"]))
        return await self._reading(_detail, self.view, one, pages)

    async def rejected(self, request: StarletteRequest) -> Response:
        got = await self._one_import(request, NONE)
        if isinstance(got, Response):
            return got
        one, _ = got
        found = await anyio.to_thread.run_sync(rejectedfile.find, self.view.settings, one, limiter=self.threads)
        if isinstance(found, str):
            return error(404, found)
        return StreamingResponse(found.chunks(), 200, found.headers())  # read in worker threads

    async def changes(self, request: StarletteRequest) -> Response:
        got = await self._one_import(request, CHANGES)
        if isinstance(got, Response):
            return got
        one, q = got
        return await self._reading(changes_response, self.view.settings, one, int(q["offset"]), int(q["limit"]))

    async def revert_preview(self, request: StarletteRequest) -> Response:
        got = await self._one_import(request, REVERT_PREVIEW)
        if isinstance(got, Response):
            return got
        one, q = got
        try:
            return await anyio.to_thread.run_sync(revert_preview_response, self.view.settings, one,
                                                  q["force"] == "true", limiter=self.previews)
        except (sqlite3.Error, OSError) as exc:
            logger.warning(f"jobs view: cannot read the audit trail now: {exc}")
            return error(503, "the audit trail cannot be read now; try again")

    async def campaigns(self, request: StarletteRequest) -> Response:
        got = await self._api(request, NONE)
        if isinstance(got, Response):
            return got
        try:
            return await self.in_thread(_campaigns, self.view)
        except Exception as exc:  # noqa: BLE001 - the store may be unreachable: the page says so, the rest still works
            logger.warning(f"jobs view: cannot read the campaigns now: {type(exc).__name__}")
            return error(503, "the system store cannot be read now; try again")

    async def events(self, request: StarletteRequest) -> Response:
        got = await self._api(request, NONE)
        return got if isinstance(got, Response) else EventStream(self.view, self.streams)

    async def _reading(self, build: Callable[..., Response], *args: Any) -> Response:
        try:
            return await self.in_thread(build, *args)
        except (sqlite3.Error, OSError) as exc:
            logger.warning(f"jobs view: cannot read the audit trail now: {exc}")
            return error(503, "the audit trail cannot be read now; try again")


async def not_found(request: StarletteRequest) -> Response:
    """Any other path (the last route)."""
    return error(404, "not found")


# --- answers, each built whole in a worker thread -------------------------------------------------------------

def _summary(view: jobsdata.ServiceView, streams_open: int) -> Response:
    body = asdict(jobsdata.summary(view))
    body["event_streams"] = streams_open
    return json_answer(body)


def _imports(view: jobsdata.ServiceView, import_type: str, status: str, limit: int) -> Response:
    return json_answer({"imports": jobsdata.imports(view.settings, import_type, status, limit)})


def _detail(view: jobsdata.ServiceView, import_id: int, pages: jobsdata.Pages) -> Response:
    detail = jobsdata.import_detail(view.settings, import_id, pages)
    return json_answer(asdict(detail)) if detail is not None else error(404, "no such import")


def _campaigns(view: jobsdata.ServiceView) -> Response:
    return json_answer({"campaigns": jobsdata.campaigns(view.settings)})
