"""Setting up the system store before the first import: its tables and the logon user (service start, ``aimport import``)."""

from __future__ import annotations

from aimport.campaigns import model as campaign_model
from aimport.importing.logonuser import ensure_logon_user
from aimport.settings import Settings
from aimport.store import system as store

__all__ = ["prepare_store"]


def prepare_store(settings: Settings) -> bool:
    """Create the store's tables and make sure the logon user exists; True if it was created.

    Raises aimport.importing.logonuser.LogonUserError when the logon user cannot be used.
    """
    conn = store.open_store(settings.system_db)
    campaign_model.ensure_schema(conn)
    try:
        if settings.enabled and settings.logon_user:
            return ensure_logon_user(conn, settings.logon_user)
        return False
    finally:
        conn.close()
