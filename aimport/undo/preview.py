"""What a revert would do, without doing it: the same transaction as ``aimport revert``, rolled back (the counts a
confirmation shows, and the conflicts). ``aimport revert ID --dry-run``; the jobs view's revert button."""

from __future__ import annotations

from aimport.settings import Settings
from aimport.store import auditqueries, turn
from aimport.store.db import with_retries
from aimport.store.schema import open_store
from aimport.undo.revert import RevertResult, revert_import

__all__ = ["preview_revert"]


def preview_revert(settings: Settings, import_id: int, force: bool = False) -> RevertResult:
    """Run the revert of import ``import_id`` and roll it back; raises LookupError when there is no such import."""
    row, _ = auditqueries.get_import(settings.audit_db, import_id)
    if row is None:
        raise LookupError(f"no import with id {import_id} in the audit trail")
    key = auditqueries.import_key_of(settings.audit_db, import_id)
    with open_store(settings.store_address) as db:
        def work() -> RevertResult:
            turn.take(db, turn.EVERY)
            try:
                return revert_import(db, key, f"preview-{key}", force, settings.logon_user, settings.revert_days)
            finally:
                db.rollback()

        return with_retries(db, work)
