"""The write turn: which imports may apply at the same time, how long one waits, and who holds it.

An import's rows are read, checked and staged before its turn; the turn covers the statements that
apply them and the ledger row, and ends with COMMIT (or ROLLBACK, or the connection going away).

On PostgreSQL the turn is one advisory transaction lock per item table (:data:`TABLES`): an import
takes the key of every table it writes exclusively and the key of every table it refers to shared
(so a delete never races a new reference to the same object), all in one statement and in one fixed
order (no two imports wait for each other in a circle). Skills on one unit and Directory entries on
another apply at the same time; two Directory files, or a Users sheet and a Queues file (users refer to
queues), take turns. Every taker also holds the single store-wide key of aimport before 27 shared, so
an older instance (which takes that key exclusively) still excludes them all during an upgrade.

A wait lasts at most ``store_turn_timeout`` (:class:`~aimport.store.connect.StoreSession`); then
:class:`TurnBusy` (a transient :class:`~aimport.store.db.StoreUnavailable`: the service defers the import)
names the holder by its ``application_name`` and says how long it has held the turn. While a
connection holds the turn, its ``application_name`` ends in ``turn@<server epoch>`` (set for the
transaction only), which is how others (:func:`holders`, ``aimport status``) tell since when.

SQLite has one writer: the turn is the lock file next to the database, whatever the keys (unchanged).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aimport.itemtypes.catalog import ALL_TYPES
from aimport.itemtypes.schema import ItemType
from aimport.store.db import TURN_CLASS, TURN_MARK, TURN_TABLES, Db, StoreUnavailable

__all__ = ["CAMPAIGN", "EVERY", "TABLES", "TURN_CLASS", "HeldTurn", "Holder", "TurnBusy", "TurnKeys", "holders",
           "keys_for", "take", "wide"]

TABLES = TURN_TABLES  # key n+1 is TABLES[n]; the taking order
SINCE_MARK = TURN_MARK  # application_name of a holder: "<its name> turn@<epoch seconds>"


@dataclass(frozen=True)
class TurnKeys:
    """The tables an apply writes (their keys taken exclusively) and refers to (taken shared)."""

    write: tuple[str, ...]
    read: tuple[str, ...] = ()

    def locks(self) -> list[tuple[int, bool]]:
        """``(key, exclusive)`` in the one fixed order (a table written is not also taken shared)."""
        wanted = {TABLES.index(t) + 1: True for t in self.write}
        for t in self.read:
            wanted.setdefault(TABLES.index(t) + 1, False)
        return sorted(wanted.items())

    def describe(self) -> str:
        return ", ".join(self.write) or "-"


EVERY = TurnKeys(TABLES)  # service start (the logon user, stored phones), a revert
CAMPAIGN = TurnKeys(("campaigns",), ("blocked_numbers", "queues", "script_questions"))  # its customers; what it checks


def keys_for(types: Iterable[ItemType]) -> TurnKeys:
    """The keys an import of these item types takes: their tables, and shared the tables they refer to."""
    types = list(types)
    write = tuple(dict.fromkeys(t.table for t in types))
    by_key = {t.key: t for t in ALL_TYPES}
    read = tuple(dict.fromkeys(by_key[f.ref].table for t in types for f in t.fields
                               if f.ref and f.ref in by_key and by_key[f.ref].table not in write))
    return TurnKeys(write, read)


class TurnBusy(StoreUnavailable):
    """The write turn was not free within ``store_turn_timeout``: the import is deferred (nothing applied)."""

    def __init__(self, keys: TurnKeys, waited_s: float, holder: Holder | None) -> None:
        who = (f"held by {holder.name!r} for {holder.held_s:.0f}s" if holder and holder.held_s is not None
               else f"held by {holder.name!r}" if holder else "its holder has just let it go")
        super().__init__(f"the write turn of {keys.describe()} was not free within {waited_s:.0f}s ({who})")
        self.keys, self.waited_s, self.holder = keys, waited_s, holder


@dataclass(frozen=True)
class Holder:
    """A connection holding (or waiting for) a turn key, as the server sees it."""

    name: str  # its application_name without the turn mark: "aimport SRV1_VUBJS pid 4242 import"
    table: str  # the turn (the item table) it holds or waits for
    exclusive: bool
    held_s: float | None = None  # how long it has held its turn (None: not known, an older aimport)
    waiting_s: float | None = None  # set for a connection still waiting for the key
    backend_pid: int = 0


@dataclass
class HeldTurn:
    """A turn taken in the open transaction: how long the wait was, and since when it is held."""

    keys: TurnKeys
    waited_s: float
    taken_at: float = field(default_factory=time.monotonic)

    def hold_s(self) -> float:
        return time.monotonic() - self.taken_at


WIDE_ENV = "AIMPORT_BENCH_WIDE_TURN"  # "1": every import takes every key before staging (scripts/bench's "before")


def wide() -> bool:
    """For the benchmark only: whether imports take the wide turn of aimport before 27 (every table, from the start
    of the apply transaction), to measure the narrow turn against it on the same code."""
    return os.environ.get(WIDE_ENV) == "1"


def take(db: Db, keys: TurnKeys, timeout_s: float | None = None) -> HeldTurn:
    """Take the write turn for ``keys`` in ``db``'s write transaction (begun here if none is open).

    Waits at most ``timeout_s`` (default: the session's ``store_turn_timeout``); then the transaction is
    rolled back and :class:`TurnBusy` names the holder. The turn ends with the transaction.
    """
    timeout_s = db.session.turn_timeout_s if timeout_s is None else timeout_s
    start = time.monotonic()
    if not db.take_turn(keys.locks(), timeout_s, SINCE_MARK):
        waited = time.monotonic() - start
        found = [h for h in holders(db, keys) if h.waiting_s is None]
        found.sort(key=lambda h: (not h.exclusive, -(h.held_s or 0)))
        raise TurnBusy(keys, waited, found[0] if found else None)
    return HeldTurn(keys, time.monotonic() - start)


_HOLDERS_SQL = """
SELECT a.application_name, l.objid::int, l.mode, l.granted, a.pid,
       extract(epoch FROM clock_timestamp())::float8,
       extract(epoch FROM clock_timestamp() - COALESCE(l.waitstart, a.query_start))::float8
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.classid = ? AND l.objsubid = 2 AND a.pid <> pg_backend_pid()
ORDER BY l.objid, l.granted DESC
"""


def holders(db: Db, keys: TurnKeys | None = None) -> list[Holder]:
    """Every connection holding or waiting for a turn key (of ``keys``, or any), outside a transaction.

    PostgreSQL only (SQLite: ``[]``; its one writer holds a lock file nobody else can see into)."""
    if db.dialect != "postgresql":
        return []
    wanted = {k for k, _ in keys.locks()} if keys is not None else None
    out: list[Holder] = []
    for name, objid, mode, granted, pid, now, waiting in db.execute(_HOLDERS_SQL, (TURN_CLASS,)).fetchall():
        if (wanted is not None and objid not in wanted) or not 0 < objid <= len(TABLES):
            continue
        base, mark, since = str(name or "").partition(SINCE_MARK)
        held: float | None = None
        if mark:
            try:
                held = max(0.0, float(now) - float(since))
            except ValueError:
                held = None
        out.append(Holder(base or f"backend {pid}", TABLES[objid - 1], mode == "ExclusiveLock", held,
                          None if granted else float(waiting or 0), int(pid)))
    return out


def describe(found: Sequence[Holder]) -> list[str]:
    """One line per turn: ``skills: held by 'aimport SRV1_VUBJS pid 7 import' for 3s; 1 waiting``."""
    lines = []
    for table in dict.fromkeys(h.table for h in found):
        on = [h for h in found if h.table == table]
        held = [h for h in on if h.waiting_s is None]
        waiting = len(on) - len(held)
        who = "; ".join(f"{'held' if h.exclusive else 'shared'} by {h.name!r}"
                        + (f" for {h.held_s:.0f}s" if h.held_s is not None else "") for h in held) or "free"
        lines.append(f"{table}: {who}" + (f"; {waiting} waiting" if waiting else ""))
    return lines
