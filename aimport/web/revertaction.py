"""The data of the jobs view's revert button (the route and the button are the lead's): what a confirmation shows
(:func:`revert_preview_answer`, the revert rolled back) and ``POST /api/actions/revert`` (:func:`revert_answer`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aimport.settings import Settings

__all__ = ["revert_answer", "revert_preview_answer"]


def _result(res: Any) -> dict[str, Any]:
    return {**res.counts, "conflicts": [asdict(c) for c in res.conflicts], "notes": list(res.notes),
            "refusal": res.refusal or None}


def revert_preview_answer(settings: Settings, import_id: int, force: bool = False) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): the counts and conflicts a revert of ``import_id`` would have; nothing is changed."""
    from aimport.undo.preview import preview_revert

    try:
        res = preview_revert(settings, import_id, force)
    except LookupError as exc:
        return 404, {"error": str(exc)}
    return 200, {"import_id": import_id, "preview": True, **_result(res)}


async def revert_answer(settings: Settings, import_id: int, force: bool = False) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a revert run and recorded as ``aimport revert`` does: 200 reverted, 409 refused
    (conflicts, call results, already reverted), 404 no such import, 400 one that cannot be reverted."""
    from aimport.undo.revertjob import RevertError, run_revert

    try:
        done = await run_revert(settings, import_id, force)
    except RevertError as exc:
        return (404 if "no import with id" in str(exc) else 400), {"error": str(exc)}
    body = {"import_id": import_id, "revert_id": done.revert_id, "interrupted": done.interrupted,
            "history": done.history.name if done.history else None, **_result(done.result)}
    return (409 if done.result.refusal else 200), body
