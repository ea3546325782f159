"""What the service keeps and for how long: finished audit rows for ``audit_retention_days`` and what each import
changed (its before-images, for ``aimport revert``) for ``revert_days``; pruned at start and daily, never a stop."""

from __future__ import annotations

import logging
import sqlite3

import anyio

from aimport.settings import Settings
from aimport.store.audit import Audit
from aimport.store.db import StoreError
from aimport.undo.retention import prune_before_images

logger = logging.getLogger(__name__)

__all__ = ["run_retention"]

DAY_S = 86400


async def run_retention(audit: Audit, settings: Settings) -> None:
    """Prune the audit trail and the before-images now, then once a day (one task of the service)."""
    while True:
        await _prune_audit(audit, settings.audit_retention_days)
        await _prune_before_images(settings)
        await anyio.sleep(DAY_S)


async def _prune_audit(audit: Audit, days: int) -> None:
    try:
        pruned = await audit.prune(days)
    except sqlite3.Error as exc:  # the state disk may be full: tried again tomorrow, never a stop
        logger.error(f"audit retention: cannot prune the audit trail now: {exc}")
        return
    if pruned:
        logger.info(f"audit retention: pruned {pruned} import(s) older than {days} days")


async def _prune_before_images(settings: Settings) -> None:
    try:
        pruned = await anyio.to_thread.run_sync(prune_before_images, settings.store_address, settings.revert_days)
    except StoreError as exc:  # the store may be away: tried again tomorrow, never a stop
        logger.error(f"revert retention: cannot prune the before-images now: {exc}")
        return
    if pruned:
        logger.info(f"revert retention: pruned {pruned} batch(es) of before-images older than "
                    f"{settings.revert_days} days")
