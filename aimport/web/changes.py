"""The jobs view's list of what an import changed: ``GET /api/imports/<id>/changes?offset=&limit=``.

The same page as ``aimport changes ID --json`` (:func:`aimport.undo.changespage.changes_page`): per item
created, deleted or ``Field: old -> new``, with ``total`` for paging and ``notes`` (pruned, reverted by ...).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from aimport.settings import Settings
from aimport.web.answers import error, json_answer
from aimport.web.params import Number, Spec

__all__ = ["CHANGES", "MAX_LIMIT", "changes_answer", "changes_response"]

MAX_LIMIT = 1000
CHANGES: Spec = {"offset": Number(0, 10**9, 0), "limit": Number(1, MAX_LIMIT, 100)}


def changes_answer(settings: Settings, import_id: int, offset: int = 0, limit: int = 100) -> dict[str, Any] | None:
    """The page as a JSON-ready dict; None when the audit trail has no such import (a 404)."""
    from aimport.undo.changespage import NoSuchImport, changes_page

    try:
        page = changes_page(settings.audit_db, settings.store_address, import_id, offset, max(1, min(limit, MAX_LIMIT)),
                            settings.revert_days)
    except NoSuchImport:
        return None
    return page.as_dict()


def changes_response(settings: Settings, import_id: int, offset: int, limit: int) -> Response:
    """The answer of ``GET /api/imports/<id>/changes`` (built in a worker thread): 200 the page, 404 no such
    import, 503 when the system store cannot be read now."""
    from aimport.store.db import StoreError

    try:
        page = changes_answer(settings, import_id, offset, limit)
    except StoreError:
        return error(503, "the system store cannot be read now; try again")
    return json_answer(page) if page is not None else error(404, "no such import")
