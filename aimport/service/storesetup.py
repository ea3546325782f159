"""Setting up the system store before the first import: its tables and the logon user (service start, ``aimport import``)."""

from __future__ import annotations

from aimport.importing.logonuser import ensure_logon_user
from aimport.settings import Settings
from aimport.store.schema import open_store

__all__ = ["prepare_store"]


def prepare_store(settings: Settings) -> bool:
    """Create the store's tables and make sure the logon user exists; True if it was created.

    Raises aimport.importing.logonuser.LogonUserError when the logon user cannot be used.
    """
    with open_store(settings.store_address) as db:
        if settings.enabled and settings.logon_user:
            return ensure_logon_user(db, settings.logon_user)
        return False
