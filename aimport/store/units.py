"""The units sharing a PostgreSQL store: one heartbeat row per running service, and what its imports wait for.

Every few seconds a service writes its row of ``aimport_units`` (unit, host, pid, version, started, last
seen, imports in flight) and looks whether any of its own connections is waiting for a write turn, and for
whom (:func:`waiting`): ``/healthz`` shows that line. ``aimport status`` and the jobs view list the rows
(:func:`listing`) with the turns held now (:func:`aimport.store.turn.holders`). The table is operational,
not data: it is created by the first heartbeat, rows not seen for a day are removed, and a service
removes its own row when it stops. SQLite has one service: no heartbeat (nothing to list but itself).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from aimport.store.connect import open_db
from aimport.store.db import Db, StoreAddress, StoreError, is_postgresql
from aimport.store.turn import Holder, holders

logger = logging.getLogger(__name__)

__all__ = ["EVERY_S", "Heartbeat", "UnitRow", "latest", "listing", "waiting"]

EVERY_S = 5.0  # seconds between two heartbeats
FORGET_S = 86_400  # rows not seen for this long are removed
_LOCK_KEY = 0x61696D75  # "aimu": creating the table, one instance at a time

_TABLE = """CREATE TABLE IF NOT EXISTS aimport_units (
    unit TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL, in_flight INTEGER NOT NULL,
    PRIMARY KEY (host, pid))"""


@dataclass(frozen=True)
class UnitRow:
    """One running (or lately running) service on the store."""

    unit: str
    host: str
    pid: int
    version: str
    started_at: float  # Unix time
    seen_s_ago: float  # seconds since its last heartbeat (the server's clock)
    in_flight: int  # imports running at its last heartbeat

    def as_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "host": self.host, "pid": self.pid, "version": self.version,
                "started_at": self.started_at, "seen_s_ago": round(self.seen_s_ago, 1), "in_flight": self.in_flight}


def listing(db: Db) -> list[UnitRow]:
    """The store's units, most recently seen first ([] on SQLite, or before the first heartbeat)."""
    if db.dialect != "postgresql" or not db.table_exists("aimport_units"):
        return []
    rows = db.execute("SELECT unit, host, pid, version, started_at, extract(epoch FROM clock_timestamp()) - last_seen, "
                      "in_flight FROM aimport_units ORDER BY last_seen DESC, unit").fetchall()
    return [UnitRow(str(u), str(h), int(p), str(v), float(s), max(0.0, float(a)), int(n)) for u, h, p, v, s, a, n in rows]


def waiting(found: list[Holder], unit: str) -> str:
    """``waiting for the write turn N s (held by ...)`` when a connection of ``unit`` waits for one; else ""."""
    mine = f"aimport {unit} pid "
    waits = [h for h in found if h.waiting_s is not None and h.name.startswith(mine)]
    if not waits:
        return ""
    longest = max(waits, key=lambda h: h.waiting_s or 0)
    held = [h for h in found if h.waiting_s is None and h.table == longest.table and h.backend_pid != longest.backend_pid]
    by = ", ".join(f"{h.name}" + (f" for {h.held_s:.0f} s" if h.held_s is not None else "") for h in held) or "-"
    return f"waiting for the write turn of {longest.table} {longest.waiting_s:.0f} s (held by {by})"


_latest: list[dict[str, object]] = []


def latest() -> list[dict[str, object]]:
    """The store's units as this process's last heartbeat read them, with the turns each holds (the jobs view)."""
    return list(_latest)


class Heartbeat:
    """A service's heartbeat on the store (a connection of its own, opened again after trouble)."""

    def __init__(self, address: StoreAddress, unit: str, version: str, in_flight: Callable[[], int]) -> None:
        self.address, self.unit, self.version, self.in_flight = address, unit, version, in_flight
        self.host = socket.gethostname()
        self.started_at = time.time()
        self.note = ""  # the last waiting() line ("" while nothing waits)
        self._db: Db | None = None

    @property
    def shared(self) -> bool:
        return is_postgresql(self.address)

    def beat(self) -> None:
        """Write this service's row and read what its connections wait for (runs in a thread; never raises)."""
        if not self.shared:
            return
        try:
            db = self._db = self._db or open_db(self.address, timeout=5, role="heartbeat")
            if not db.table_exists("aimport_units"):
                db.begin_write()
                db.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
                db.execute(_TABLE)
                db.commit()
            db.execute("INSERT INTO aimport_units (unit, host, pid, version, started_at, last_seen, in_flight) "
                       "VALUES (?, ?, ?, ?, ?, extract(epoch FROM clock_timestamp()), ?) ON CONFLICT (host, pid) DO "
                       "UPDATE SET unit = excluded.unit, version = excluded.version, started_at = excluded.started_at, "
                       "last_seen = excluded.last_seen, in_flight = excluded.in_flight",
                       (self.unit, self.host, os.getpid(), self.version, self.started_at, self.in_flight()))
            db.execute("DELETE FROM aimport_units WHERE last_seen < extract(epoch FROM clock_timestamp()) - ?",
                       (FORGET_S,))
            found = holders(db)
            self.note = waiting(found, self.unit)
            global _latest
            _latest = [{**u.as_dict(), "turns": [
                {"table": h.table, "held_s": None if h.held_s is None else round(h.held_s, 1),
                 "waiting_s": None if h.waiting_s is None else round(h.waiting_s, 1)}
                for h in found if h.name.startswith(f"aimport {u.unit} pid ")]} for u in listing(db)]
        except StoreError as exc:
            logger.debug(f"heartbeat on the system store failed: {exc}")
            self.close()

    def leave(self) -> None:
        """Remove this service's row (best effort, at stop)."""
        if self._db is None:
            return
        try:
            self._db.execute("DELETE FROM aimport_units WHERE host = ? AND pid = ?", (self.host, os.getpid()))
        except StoreError:
            pass
        self.close()

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                db.rollback()
                db.close()
            except StoreError:
                pass
