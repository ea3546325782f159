"""The logon user that automatic import acts as, and its rights."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aimport.itemtypes.catalog import USER
from aimport.store import system as store
from aimport.store import turn
from aimport.store.db import Db

REQUIRED_RIGHTS = ("ImportExport", "ManageCampaigns")


class LogonUserError(Exception):
    pass


def ensure_logon_user(db: Db, login: str) -> bool:
    """Create the user on an empty store; check its rights otherwise. True if created.

    Reads without waiting; only a store without the user takes the write turn (and looks again), so
    instances starting together on one shared store create it once, and a start never waits for imports.
    """
    ids = store.find_ids(db, USER, ("Login",), [(login,)])
    if not ids:
        turn.take(db, turn.EVERY)
        try:
            ids = store.find_ids(db, USER, ("Login",), [(login,)])
            if not ids:
                if store.count(db, USER) > 0:
                    raise LogonUserError(
                        f"logon user {login!r} does not exist in the system store; create it (with the rights "
                        f"{' and '.join(REQUIRED_RIGHTS)}) or choose another --logon-user"
                    )
                store.insert(db, USER, {"Login": login, "FirstName": "Automatic", "Surname": "Import",
                                        "Rights": json.dumps(list(REQUIRED_RIGHTS))}, by="aimport")
                db.commit()
                return True
        finally:
            db.rollback()
    rid = next(iter(ids.values()))
    row = store.get_rows(db, USER, [rid])[rid]
    rights = set(json.loads(row.get("Rights") or "[]"))
    missing = [r for r in REQUIRED_RIGHTS if r not in rights]
    if missing:
        raise LogonUserError(
            f"logon user {login!r} lacks the right{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            "needed for automatic import"
        )
    return False


@dataclass(frozen=True)
class LogonGuard:
    """An import can never cut off the logon user: no delete, no new Login, no loss of a required right."""

    login: str
    rid: int | None

    @classmethod
    def load(cls, conn: Db, login: str | None) -> LogonGuard:
        ids = store.find_ids(conn, USER, ("Login",), [(login,)]) if login else {}
        return cls(login or "", next(iter(ids.values()), None))

    def refusal(self, target: int, delete: bool, values: dict[str, Any], names: list[str]) -> tuple[str, str] | None:
        """(column, reason) when the row would delete, rename or strip the logon user; None otherwise."""
        if self.rid is None or target != self.rid:
            return None
        who = f"user {self.login!r} is the logon user automatic import acts as; "
        if delete:
            return "Delete", who + "an import cannot delete it"
        if "Login" in names and values.get("Login") not in (None, self.login):
            return "Login", who + "an import cannot change its Login (change --logon-user first)"
        if "Rights" in names:
            kept = set(values.get("Rights") or ())
            missing = [r for r in REQUIRED_RIGHTS if r not in kept]
            if missing:
                return "Rights", who + f"it must keep the right{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        return None
