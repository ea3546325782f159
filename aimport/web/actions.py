"""The operator's actions over HTTP: POST /api/actions/release, /retry, /cancel and /revert (the jobs view's buttons).

Each takes a small JSON body and answers ``{"ok": true, "message": "..."}`` (200) or ``{"error": "..."}`` (4xx,
a message a person can act on). Who may act is :meth:`aimport.web.auth.Access.may_act` (the view's rule,
from the page's own origin, a JSON body); the body is at most MAX_BODY bytes and must arrive within
BODY_TIMEOUT_S. The work is the same as the command line's (``aimport release``, ``aimport retry``,
``aimport cancel``, ``aimport revert``), and each is recorded in the audit trail with ``requested_by`` (``token`` or
``loopback``):

    release  {"type": "Skills", "file": "big.xlsx"}   a held file is imported now (a ``hold_released`` event)
    retry    {"import_id": 42}                        a failed or partial import's original is dropped again
                                                      (``retry_requested``; the new import records ``retry_of``)
    cancel   {"type": "Skills", "file": "x.xlsx"}     a queued or held file goes to History/ as ``cancelled``
    revert   {"import_id": 42, "force": false}        the import is reverted as by ``aimport revert 42 [--force]``
                                                      (aimport.web.revertaction), in a worker thread, under the
                                                      store's write turn; ``revert_requested`` on import 42. A
                                                      refusal is a 409 whose body also lists the ``conflicts``
                                                      (item, field, later_import); one revert at a time
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from starlette.requests import ClientDisconnect
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aimport.layout import display_name
from aimport.service import retries
from aimport.service.actionrefused import ActionRefused
from aimport.service.cancels import cancel_file, waiting_file
from aimport.service.officehours.heldlist import HeldFile, read_held, request_release
from aimport.store.audit import Audit
from aimport.web.answers import error, json_answer
from aimport.web.revertaction import no_logon_user, revert_answer
from aimport.web.routes import Site, request_in

logger = logging.getLogger(__name__)

__all__ = ["BODY_TIMEOUT_S", "MAX_BODY", "routes"]

MAX_BODY = 4096
BODY_TIMEOUT_S = 10.0


def routes(site: Site) -> list[BaseRoute]:
    async def release(request: StarletteRequest) -> Response:
        return await _act(site, request, _release)

    async def retry(request: StarletteRequest) -> Response:
        return await _act(site, request, _retry)

    async def cancel(request: StarletteRequest) -> Response:
        return await _act(site, request, _cancel)

    reverting = anyio.Lock()  # one revert at a time from this service

    async def revert(request: StarletteRequest) -> Response:
        return await _act(site, request, partial(_revert, reverting))

    return [Route("/api/actions/release", release, methods=["POST"]), Route("/api/actions/retry", retry, methods=["POST"]),
            Route("/api/actions/cancel", cancel, methods=["POST"]), Route("/api/actions/revert", revert, methods=["POST"])]


@dataclass(frozen=True)
class Answered:
    """An action's answer with more than a message: ``payload`` has ``message`` (200) or ``error`` (else)."""

    status: int
    payload: dict[str, Any]


async def _act(site: Site, request: StarletteRequest, action: Any) -> Response:
    r = request_in(request)
    denied = site.access.may_act(r)
    if denied is not None:
        return denied
    body = await _body(request)
    if isinstance(body, Response):
        return body
    who = site.access.who(r)
    try:
        done: str | Answered = await action(site, body, who)
    except ActionRefused as refused:
        return error(refused.status, refused.message)
    if isinstance(done, Answered):
        said = done.payload.get("message") or done.payload.get("error")
        logger.info(f"jobs view: {said} (requested by {who}, {r.client or 'unknown address'})")
        return json_answer({"ok": True, **done.payload} if done.status == 200 else done.payload, done.status)
    logger.info(f"jobs view: {done} (requested by {who}, {r.client or 'unknown address'})")
    return json_answer({"ok": True, "message": done})


async def _body(request: StarletteRequest) -> dict[str, Any] | Response:
    """The JSON object of the request's body, or the answer: 413 above MAX_BODY, 408 when it is slower than
    BODY_TIMEOUT_S, 400 when it is not a JSON object."""
    data = b""
    try:
        with anyio.fail_after(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                data += chunk
                if len(data) > MAX_BODY:
                    return error(413, f"an action's body is at most {MAX_BODY} bytes of JSON")
    except TimeoutError:
        return error(408, f"the request body did not arrive within {BODY_TIMEOUT_S:g} seconds")
    except ClientDisconnect:
        return error(400, "the client went away before its request body arrived")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return error(400, "the body is not JSON: send e.g. {\"type\": \"Skills\", \"file\": \"name.xlsx\"}")
    return body if isinstance(body, dict) else error(400, "the body is a JSON object, e.g. {\"import_id\": 42}")


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ActionRefused(400, f"{key!r} is missing: the body is {{\"type\": \"<import type>\", \"file\": \"<name>\"}}")
    return value


async def _release(site: Site, body: dict[str, Any], who: str) -> str:
    settings = site.view.settings
    import_type, name = _text(body, "type"), _text(body, "file")
    path = waiting_file(settings, import_type, name)
    intake = site.view.intake
    held: list[HeldFile] = (intake.held_files() if intake is not None
                            else await anyio.to_thread.run_sync(lambda: read_held(settings.state_dir).files))
    target = next((f for f in held if f.import_type == import_type and f.path.name == name), None)
    shown = f"{import_type}/{display_name(name)}"
    if target is None:
        if await anyio.to_thread.run_sync(path.exists):
            raise ActionRefused(409, f"{shown} is not held: the service imports it as usual")
        raise ActionRefused(404, f"no held file {shown} (it was released, imported or removed meanwhile)")
    try:
        await anyio.to_thread.run_sync(request_release, settings.state_dir, target, who)
    except OSError as exc:
        raise ActionRefused(503, f"cannot write the release request: {exc.strerror or exc}; try again") from None
    return f"released {shown}: the service imports it at its next folder check (within 2 seconds)"


def _import_id(body: dict[str, Any], shape: str = "{\"import_id\": <the import's id>}") -> int:
    import_id = body.get("import_id")
    if isinstance(import_id, str) and import_id.isascii() and import_id.isdigit() and len(import_id) <= 12:
        import_id = int(import_id)
    if not isinstance(import_id, int) or isinstance(import_id, bool) or not 0 < import_id < 10**12:
        raise ActionRefused(400, f"'import_id' is missing: the body is {shape}")
    return import_id


async def _retry(site: Site, body: dict[str, Any], who: str) -> str:
    audit = _audit(site)
    import_id = _import_id(body)
    try:
        done = await anyio.to_thread.run_sync(retries.drop_again, site.view.settings, import_id, who)
    except OSError as exc:
        raise ActionRefused(503, f"cannot drop the file again: {exc.strerror or exc}; try again") from None
    await audit.event("retry_requested", import_id, file=done.file_name, type=done.import_type,
                      dropped=str(done.dropped), requested_by=who)
    return (f"import {import_id} is retried: {done.import_type}/{display_name(done.file_name)} is in its drop "
            "folder again and is imported like a dropped file")


async def _cancel(site: Site, body: dict[str, Any], who: str) -> str:
    audit = _audit(site)
    settings = site.view.settings
    import_type, name = _text(body, "type"), _text(body, "file")
    path = waiting_file(settings, import_type, name)
    try:
        done = await cancel_file(settings, audit, import_type, path, who)
    except OSError as exc:
        raise ActionRefused(503, f"cannot cancel {import_type}/{display_name(name)}: {exc.strerror or exc}") from None
    return (f"cancelled {import_type}/{display_name(name)}: moved to History/{display_name(done.history.name)} "
            "with status cancelled, nothing applied")


async def _revert(reverting: anyio.Lock, site: Site, body: dict[str, Any], who: str) -> Answered:
    audit = _audit(site)
    import_id = _import_id(body, "{\"import_id\": <the import's id>, \"force\": false}")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ActionRefused(400, "'force' is true or false: true reverts even over later imports' changes")
    settings = site.view.settings
    if not settings.logon_user:
        raise ActionRefused(409, no_logon_user(import_id))
    if reverting.locked():
        raise ActionRefused(409, "another revert is running in this service; try again when it has finished")
    async with reverting:  # the job runs in a worker thread (its own event loop there), never on this one
        status, payload = await anyio.to_thread.run_sync(revert_answer, settings, import_id, force, who)
    if payload.get("revert_id") is not None:
        await audit.event("revert_requested", import_id, revert_id=payload["revert_id"], force=force,
                          reverted=status == 200, requested_by=who)
    return Answered(status, payload)


def _audit(site: Site) -> Audit:
    if site.view.audit is None:
        raise ActionRefused(503, "the service is still starting (the audit trail is not open yet); try again shortly")
    return site.view.audit
