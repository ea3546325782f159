"""Setting up the system store before the first import: its tables, its stored phone numbers (normalised for
the configured ``phone_region``) and the logon user (service start, ``aimport import``)."""

from __future__ import annotations

import logging

from aimport.importing.logonuser import ensure_logon_user
from aimport.settings import Settings
from aimport.store.schema import open_store
from aimport.store.storedphones import PhoneReport, renormalise_phones

logger = logging.getLogger(__name__)

__all__ = ["KEPT_LINES", "log_phone_report", "prepare_store"]

KEPT_LINES = 100  # stored phones that could not be normalised, listed one per line; the rest are counted


def prepare_store(settings: Settings) -> bool:
    """Create the store's tables, normalise its phones for ``phone_region`` and make sure the logon user
    exists; True if it was created.

    Raises aimport.importing.logonuser.LogonUserError when the logon user cannot be used.
    """
    with open_store(settings.store_address) as db:
        log_phone_report(renormalise_phones(db, settings.phone_region))
        if settings.enabled and settings.logon_user:
            return ensure_logon_user(db, settings.logon_user)
        return False


def log_phone_report(report: PhoneReport) -> None:
    """The service log's account of a re-normalisation (nothing when there was none)."""
    if not report.ran:
        return
    region = report.region or "none"
    why = ("stored before aimport used the phonenumbers library" if report.previous is None
           else f"the phone_region was {report.previous or 'none'}")
    logger.info(f"stored phone numbers normalised for phone_region {region} ({why}): {report.changed} value(s) "
             f"rewritten, {len(report.merged)} blocked number(s) merged, {len(report.kept)} kept as they were")
    for line in report.merged:
        logger.warning(f"phone normalisation: {line}")
    for kept in report.kept[:KEPT_LINES]:
        logger.warning(f"phone normalisation: kept as it was: {kept}")
    if len(report.kept) > KEPT_LINES:
        logger.warning(f"phone normalisation: {len(report.kept) - KEPT_LINES} more value(s) kept as they were "
                    "(not listed)")
