"""The jobs view's revert button: what its confirmation shows (``GET /api/imports/<id>/revert-preview``,
:func:`revert_preview_response`: the revert run and rolled back) and the revert itself (``POST
/api/actions/revert``, :func:`revert_answer`: :func:`aimport.undo.revertjob.run_revert`, the very job ``aimport
revert ID`` runs, in the calling worker thread's own event loop).

Both need the service's logon user (the user automatic import acts as, which a revert never deletes or strips of its
rights); a service without one answers 409 and names the command line that can revert. A conflict is listed as
``{"item", "field", "later", "later_import"}`` (``later_import``: the later import's id).
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.responses import Response

from aimport.settings import Settings
from aimport.web.answers import json_answer
from aimport.web.params import Choice, Spec

__all__ = ["REVERT_PREVIEW", "no_logon_user", "revert_answer", "revert_preview_answer", "revert_preview_response"]

REVERT_PREVIEW: Spec = {"force": Choice(("true", "false"))}


def no_logon_user(import_id: int) -> str:
    """Why a service without a logon user does not revert, and what does."""
    return (f"this service has no logon user (logon_user, AIMPORT_LOGON_USER): a revert needs the user automatic "
            f"import acts as, which it never deletes or strips of its rights; use `aimport revert {import_id} "
            "--logon-user NAME`")


def _import_of(key: str) -> int | None:
    tail = key.rpartition("-")[2]
    return int(tail) if tail.isdigit() else None


def _result(res: Any) -> dict[str, Any]:
    return {**res.counts, "conflicts": [{"item": c.item, "field": c.field, "later": c.later,
                                         "later_import": _import_of(c.later)} for c in res.conflicts],
            "notes": list(res.notes), "refusal": res.refusal or None}


def revert_preview_answer(settings: Settings, import_id: int, force: bool = False) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): the counts and conflicts a revert of ``import_id`` would have; nothing is changed."""
    from aimport.undo.preview import preview_revert

    if not settings.logon_user:
        return 409, {"error": no_logon_user(import_id)}
    try:
        res = preview_revert(settings, import_id, force)
    except LookupError as exc:
        return 404, {"error": str(exc)}
    return 200, {"import_id": import_id, "preview": True, "force": force, **_result(res)}


def revert_preview_response(settings: Settings, import_id: int, force: bool) -> Response:
    """The answer of ``GET /api/imports/<id>/revert-preview`` (built in a worker thread; it waits for the store's
    write turn like the revert): 200 the counts, conflicts and refusal; 404; 409 no logon user; 503 the store."""
    from aimport.store.db import StoreError

    try:
        status, body = revert_preview_answer(settings, import_id, force)
    except StoreError as exc:
        status, body = 503, {"error": f"the system store cannot be read now ({exc}); try again"}
    return json_answer(body, status)


def revert_answer(settings: Settings, import_id: int, force: bool = False,
                  requested_by: str = "") -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a revert run and recorded as ``aimport revert`` does, called in a worker thread (the
    job runs in an event loop of its own there, never on the service's): 200 reverted (``message``), 409 refused
    (``error``; conflicts, call results, already reverted, still running, failed), 404 no such import, 503 the
    store or the History/ folder cannot be written now."""
    from aimport.store.db import StoreError
    from aimport.undo.revertjob import RevertError, run_revert

    if not settings.logon_user:
        return 409, {"error": no_logon_user(import_id)}
    try:
        done = anyio.run(run_revert, settings, import_id, force, requested_by)
    except RevertError as exc:
        return (404 if "no import with id" in str(exc) else 409), {"error": str(exc)}
    except (StoreError, OSError) as exc:
        return 503, {"error": f"the revert of import {import_id} could not finish: {exc}; revert it again when the "
                              "store is back: that says whether this one was applied"}
    res = done.result
    body: dict[str, Any] = {"import_id": import_id, "revert_id": done.revert_id, "force": force,
                            "interrupted": done.interrupted, "history": done.history.name if done.history else None,
                            **_result(res)}
    said = " ".join(f"{line}." for line in done.interrupted)
    recorded = f"; recorded as import {done.revert_id}" if done.revert_id is not None else ""
    if res.refusal:
        listed = f" ({len(res.conflicts)} conflict{'s' if len(res.conflicts) != 1 else ''} listed)" if res.conflicts else ""
        body["error"] = f"{said} revert refused: {res.refusal}{listed}; nothing was changed".strip()
        return 409, body
    verb = "was reverted (recorded now)" if done.resumed else "reverted"
    overwritten = f", overwrote {len(res.conflicts)} later change(s)" if res.conflicts else ""
    body["message"] = (f"{said} import {import_id} {verb}: restored {res.restored}, removed {res.removed}, "
                       f"recreated {res.recreated}{overwritten}{recorded}").strip()
    return 200, body
