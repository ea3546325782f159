"""Before-images are kept for ``revert_days``, then pruned (the service does it with the audit trail's retention)."""

from __future__ import annotations

from aimport.store import changes
from aimport.store.db import StoreAddress, with_retries
from aimport.store.schema import open_store

__all__ = ["prune_before_images"]


def prune_before_images(address: StoreAddress, days: int) -> int:
    """Delete the before-images older than ``days`` in one short transaction; returns the batches deleted."""
    with open_store(address) as db:
        def work() -> int:
            db.begin_write()
            pruned = changes.prune(db, days)
            db.commit()
            return pruned

        return with_retries(db, work)
