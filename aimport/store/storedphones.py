"""Re-normalising the phone numbers already in the store, for the configured ``phone_region``.

The store remembers (table ``store_facts``, name ``phone_region``) which region its phone numbers were
normalised for. A store from before schema version 4 has no such fact: every stored phone (directory entries'
Phone and Mobile, blocked numbers, campaign customers' Phone1..3) was written by the old regex and is
normalised again. A store whose region differs from the configured one (a region set or changed later)
has only its national numbers (no leading ``+``: read without a region, or short numbers) normalised
again; E.164 numbers are international already and stay. A value that cannot be normalised stays as it
was and is reported. Two blocked numbers that become the same number are merged into the older row (the
later ``ValidUntil`` wins, no date beats any date, a missing Description is taken from the other row),
so the blocked list keeps blocking at least as long as before.

Runs in one write transaction holding the store's write turn (no import applies meanwhile, on any host),
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aimport.itemtypes.catalog import BLOCKED, CATALOG, CUSTOMER
from aimport.itemtypes.phones import PhoneError, normalise_phone
from aimport.store import turn
from aimport.store.db import Db

__all__ = ["PHONE_COLUMNS", "Kept", "PhoneReport", "renormalise_phones", "stored_phone_region"]

FACT = "phone_region"
PAGE = 5000
# every stored phone column: table -> columns (catalog order; campaign customers last)
PHONE_COLUMNS: dict[str, tuple[str, ...]] = {
    t.table: cols for t in (*CATALOG.all(), CUSTOMER)
    if (cols := tuple(f.column for f in t.column_fields if f.kind == "phone"))
}
_LABELS = {t.table: t.label for t in (*CATALOG.all(), CUSTOMER)}


@dataclass(frozen=True)
class Kept:
    """A stored phone that could not be normalised: it stays as it was."""

    table: str
    column: str
    row_id: int
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{_LABELS.get(self.table, self.table)} id {self.row_id} ({self.table}.{self.column}): {self.reason}"


@dataclass
class PhoneReport:
    """What :func:`renormalise_phones` did."""

    region: str
    previous: str | None  # the region the store's phones were normalised for; None: before phonenumbers
    ran: bool = False  # False: the store's phones were normalised for this region already
    changed: int = 0  # values rewritten
    kept: list[Kept] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # blocked numbers merged into another row


def stored_phone_region(db: Db) -> str | None:
    """The region the store's phones were normalised for ("": none); None: not yet (a store from before)."""
    if not db.table_exists("store_facts"):
        return None
    row = db.execute("SELECT value FROM store_facts WHERE name = ?", (FACT,)).fetchone()
    return None if row is None else str(row[0])


def renormalise_phones(db: Db, region: str) -> PhoneReport:
    """Bring the stored phones to the form :func:`normalise_phone` gives with ``region`` (see the module doc)."""
    region = region.upper()
    report = PhoneReport(region, stored_phone_region(db))
    if report.previous == region:
        return report
    turn.take(db, turn.EVERY)
    try:
        report.previous = stored_phone_region(db)  # another instance may have done it meanwhile
        if report.previous != region:
            national_only = report.previous is not None
            for table, columns in PHONE_COLUMNS.items():
                if table == BLOCKED.table:
                    _blocked(db, region, national_only, report)
                else:
                    _table(db, table, columns, region, national_only, report)
            db.execute("DELETE FROM store_facts WHERE name = ?", (FACT,))
            db.execute("INSERT INTO store_facts (name, value) VALUES (?, ?)", (FACT, region))
            report.ran = True
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return report


def _new_value(value: Any, region: str, national_only: bool) -> str | PhoneError | None:
    """The value's new form; None: nothing to do; a PhoneError: it stays, for this reason."""
    if value is None or (national_only and str(value).startswith("+")):
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        new = normalise_phone(text, region)
    except PhoneError as exc:
        return exc
    return None if new == value else new


def _table(db: Db, table: str, columns: tuple[str, ...], region: str, national_only: bool,
           report: PhoneReport) -> None:
    """Every row's phone columns, a page of rows at a time (by id: no cursor stays open across updates)."""
    where = ""
    if national_only:
        where = "AND (" + " OR ".join(f"{c} NOT LIKE '+%'" for c in columns) + ")"
    last = 0
    while True:
        rows = db.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > ? {where} ORDER BY id LIMIT ?",
                          (last, PAGE)).fetchall()
        if not rows:
            return
        updates: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for row in rows:
            for column, value in zip(columns, row[1:]):
                new = _new_value(value, region, national_only)
                if isinstance(new, PhoneError):
                    report.kept.append(Kept(table, column, int(row[0]), str(value), str(new)))
                elif new is not None:
                    updates[column].append((new, int(row[0]), value))
        for column, changes in updates.items():
            db.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ? AND {column} = ?", changes)
            report.changed += len(changes)
        last = int(rows[-1][0])


def _blocked(db: Db, region: str, national_only: bool, report: PhoneReport) -> None:
    """Blocked numbers: Number is unique, so numbers that become the same are merged into the oldest row."""
    rows = db.execute("SELECT id, number, description, valid_until FROM blocked_numbers ORDER BY id").fetchall()
    by_number: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    new_of: dict[int, str] = {}
    for row in rows:
        new = _new_value(row[1], region, national_only)
        if isinstance(new, PhoneError):
            report.kept.append(Kept(BLOCKED.table, "number", int(row[0]), str(row[1]), str(new)))
        elif new is not None:
            new_of[int(row[0])] = new
        by_number[new_of.get(int(row[0]), row[1])].append(tuple(row))
    for number, group in by_number.items():
        if len(group) > 1:
            _merge(db, number, group, report)
    kept = {int(group[0][0]): group[0][1] for group in by_number.values()}  # the rows left after merging
    changes = [(new, rid, kept[rid]) for rid, new in new_of.items() if rid in kept]
    db.executemany("UPDATE blocked_numbers SET number = ? WHERE id = ? AND number = ?", changes)
    report.changed += len(changes)


def _merge(db: Db, number: str, group: list[tuple[Any, ...]], report: PhoneReport) -> None:
    """The oldest row stays (blocking until the latest date, or for ever); the others are deleted."""
    keep, others = group[0], group[1:]
    until = None if any(r[3] is None for r in group) else max(str(r[3]) for r in group)
    description = keep[2] if keep[2] not in (None, "") else next((r[2] for r in others if r[2] not in (None, "")),
                                                                   keep[2])
    db.executemany("DELETE FROM blocked_numbers WHERE id = ?", [(r[0],) for r in others])
    db.execute("UPDATE blocked_numbers SET valid_until = ?, description = ? WHERE id = ?", (until, description, keep[0]))
    gone = ", ".join(f"id {r[0]} ({r[1]!r})" for r in others)
    report.merged.append(f"blocked number id {keep[0]} ({keep[1]!r}) and {gone} are the same number {number}: "
                         f"kept id {keep[0]}, valid until {until or 'further notice'}; removed {gone}")
