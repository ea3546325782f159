"""Stage 2 of an import: apply staged rows to the system store, for any item type.

One generic loop: identify (Id, then the type's keys in order), resolve
references, then create, update, leave unchanged or delete. The caller owns
the transaction; rejected rows are logged and never abort the file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from aimport import faults
from aimport.importing.logonuser import LogonGuard
from aimport.importing.outcome import SheetTotals, Totals
from aimport.importing.stage import Stage, StagedSheet
from aimport.importing.worklog import ImportLog
from aimport.itemtypes.catalog import CATALOG, USER, Catalog
from aimport.itemtypes.schema import Field, ItemType
from aimport.itemtypes.values import show
from aimport.store import stagedrows
from aimport.store import system as store
from aimport.store.db import Db
from aimport.undo.capture import BeforeImages


class Reject(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Applier:
    """Applies staged sheets inside the caller's transaction on ``conn``."""

    def __init__(self, db: Db, log: ImportLog, by: str, catalog: Catalog = CATALOG,
                 logon_user: str | None = None) -> None:
        self.db = db
        self.log = log
        self.by = by
        self.catalog = catalog
        self._refs: dict[str, dict[str, int]] = {}
        self._bulk_names: list[str] | None = None
        self._plain = False
        self._creates: list[tuple[Any, ...]] = []
        self._guard: LogonGuard | None = None
        self._logon_user = logon_user
        self.undo = BeforeImages(db, by)  # what an update or delete changes is kept, for undo
        self._complete = True  # the sheet has every column a create needs, and staging checked each object
        self._staged: dict[str, str] = {}  # scratch table -> its copy in the store, staged before the turn
        self._updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}  # a plain sheet's updates, by columns

    def prepare(self, stage: Stage, sheets: list[StagedSheet]) -> None:
        """Before the write turn: copy the rows of each sheet created set-based into the store's transaction
        (PostgreSQL: a temporary table by ``COPY``), so the turn covers only the statements that apply them."""
        for staged in sheets:
            names = [f.name for f in staged.fields]
            if _set_based(staged.item, names):
                skip = staged.duplicates | self._unsure(staged.item, names, stage, staged)
                table = stagedrows.stage_plain(self.db, staged.item, names, staged.table, partial(stage.all_rows, staged),
                                          skip)
                if table is not None:
                    self._staged[staged.table] = table

    def _unsure(self, t: ItemType, names: list[str], stage: Stage, staged: StagedSheet) -> set[int]:
        return set() if _complete(t, set(names)) else self._without_any(t, names, stage, staged)

    def apply(self, stage: Stage, staged: StagedSheet, progress: Callable[[int], None] | None = None) -> SheetTotals:
        t = staged.item
        tally = Counter(rows=staged.rows, rejected=staged.rejected)  # Totals' fields: rows, created, ...
        names = [f.name for f in staged.fields]
        # creates go in bulk (executemany) when no column of this sheet can refer to a row of the same
        # sheet (a UserGroups file without a Parent column has nothing to resolve) and none needs links
        own = [n for n in names if n != "Id"]
        bulk = not any(t.field(n).ref == t.key or t.field(n).is_link for n in own)
        self._bulk_names = [n for n in names if n != "Id"] if bulk else None
        self._plain = bulk and all(t.field(n).kind not in ("ref", "list") for n in self._bulk_names or ())
        self._creates = []
        self._complete = _complete(t, set(names))
        if t is USER and self._guard is None:
            self._guard = LogonGuard.load(self.db, self._logon_user)
        done = 0
        only: set[int] | None = None
        if _set_based(t, names):
            # rows that match nothing are created in one INSERT ... SELECT; the rest go row by row, and so do
            # rows without any of the mandatory_any values this file has (a create of those is rejected)
            unsure = self._unsure(t, names, stage, staged)
            created, only = stagedrows.create_plain(self.db, t, names, staged.table, partial(stage.all_rows, staged),
                                               staged.duplicates | unsure, self.by, self._staged.get(staged.table))
            only |= unsure
            tally["created"] += created
            faults.point("mid_transaction")
        for batch in stage.staged_rows(staged, only):
            rows = [(r[0], bool(r[1]), self._decode(staged.fields, r[2:])) for r in batch]
            idmaps = {
                ident: store.find_ids(
                    self.db, t, ident,
                    [tuple(v[n] for n in ident) for _, _, v in rows if all(v.get(n) is not None for n in ident)],
                )
                for ident in t.identification
                if all(n in names for n in ident)
            }
            existing = store.get_rows(self.db, t, {i for m in idmaps.values() for i in m.values()})
            for row_no, delete, values in rows:
                try:
                    outcome = self._row(t, names, values, delete, idmaps, existing)
                except Reject as rej:
                    tally["rejected"] += 1
                    self.log.rejected(staged.sheet, row_no, rej.column, rej.reason)
                    continue
                tally[outcome] += 1
            self._flush_updates(t)
            if self._creates:
                store.insert_many(self.db, t, self._bulk_names or [], self._creates, self.by)
                self._creates = []
            self.undo.flush()
            done += len(batch)
            faults.point("mid_transaction")
            if progress:
                progress(done)
        return SheetTotals(staged.sheet, t.key, Totals(**tally))

    def _flush_updates(self, t: ItemType) -> None:
        for names, rows in self._updates.items():
            store.update_many(self.db, t, names, rows, self.by)
        self._updates.clear()

    @staticmethod
    def _decode(fields: list[Field], raw: tuple[Any, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f, v in zip(fields, raw):
            if v is not None and f.kind in ("refs", "levels", "list"):
                v = json.loads(v)
            out[f.name] = v
        return out

    def _row(
        self, t: ItemType, names: list[str], values: dict[str, Any], delete: bool,
        idmaps: dict[tuple[str, ...], dict[tuple[Any, ...], int]], existing: dict[int, dict[str, Any]],
    ) -> str:
        target: int | None = None
        for ident, ids in idmaps.items():
            if not all(values.get(n) is not None for n in ident):
                continue
            target = ids.get(tuple(values[n] for n in ident))
            if ident == ("Id",) and target is None:
                raise Reject("Id", f"Id {values['Id']} does not exist: Ids are internal to a system; "
                             "leave Id empty to create, or identify by another column")
            if target is not None:
                break
        if t is USER and target is not None and self._guard is not None:
            refusal = self._guard.refusal(target, delete, values, names)
            if refusal:
                raise Reject(*refusal)
        if delete:
            if target is None:
                raise Reject("Delete", f"no existing {t.label} matches this row, nothing to delete")
            users = store.referenced_by(self.db, t, target, self.catalog)
            if users:
                raise Reject("Delete", f"the {t.label} is still used by {', '.join(users)}")
            self._flush_updates(t)  # the before-image is read from the store
            self.undo.deleted(t, target)
            store.delete(self.db, t, target)
            self._refs.pop(t.key, None)
            existing.pop(target, None)
            return "deleted"
        if target is not None:  # an update must not take another object's identification (a unique key)
            for ident, ids in idmaps.items():
                key = tuple(values.get(n) for n in ident)
                if None not in key and ids.get(key, target) != target:
                    raise Reject("/".join(ident), f"{'/'.join(ident)} {show('/'.join(map(str, key)))} already belongs "
                                 f"to another {t.label}")
        if target is None:
            self._check_create(t, values)
        elif not self._complete:
            if target not in existing:
                self._flush_updates(t)
            current = existing.get(target) or store.get_rows(self.db, t, [target]).get(target, {})
            self._check_object(t, {**current, **values})
        if target is None and self._plain:  # plain values, bulk create: nothing to resolve
            self._creates.append(tuple(values.get(n) for n in self._bulk_names or ()))
            return "created"
        columns: dict[str, Any] = {}
        links: dict[str, list[tuple[int, int | None]]] = {}
        for n in names:
            if n == "Id":
                continue
            f = t.field(n)
            v = values.get(n)
            if f.kind == "ref":
                columns[n] = None if v is None else self._resolve(f, v, t, target, values)
            elif f.kind == "refs":
                links[n] = [(self._resolve(f, x, t, target, values), None) for x in (v or [])]
            elif f.kind == "levels":
                links[n] = [(self._resolve(f, x, t, target, values), lvl) for x, lvl in (v or [])]
            elif f.kind == "list":
                columns[n] = None if v is None else json.dumps(v)
            else:
                columns[n] = v
        if target is None:
            if self._bulk_names is not None:
                self._creates.append(tuple(columns.get(n) for n in self._bulk_names))
                return "created"
            rid = store.insert(self.db, t, columns, self.by)
            for n, tl in links.items():
                store.set_links(self.db, t, t.field(n), rid, tl)
            self._remember(t, values, rid, idmaps)
            return "created"
        if target not in existing:
            self._flush_updates(t)
        current = existing.get(target) or store.get_rows(self.db, t, [target]).get(target, {})
        changed_cols = {n: v for n, v in columns.items() if current.get(n) != v}
        old_links = {n: store.get_links(self.db, t, t.field(n), target) for n in links}
        changed_links = {n: tl for n, tl in links.items() if old_links[n] != tl}
        if not changed_cols and not changed_links:
            return "unchanged"
        self.undo.updated(t, target, current, changed_cols, {n: old_links[n] for n in changed_links} if changed_links else None)
        if self._plain and not changed_links:  # sent with the batch's other updates: one round trip
            self._updates.setdefault(tuple(changed_cols), []).append((*changed_cols.values(), target))
        else:
            store.update(self.db, t, target, changed_cols, self.by)
        for n, tl in changed_links.items():
            store.set_links(self.db, t, t.field(n), target, tl)
        before = dict(current)
        current.update(changed_cols)
        for ident, ids in idmaps.items():  # keep identification current for later rows after a rename
            if ident != ("Id",) and any(n in changed_cols for n in ident):
                if ids.get(tuple(before.get(n) for n in ident)) == target:
                    del ids[tuple(before.get(n) for n in ident)]
                if all(current.get(n) is not None for n in ident):
                    ids[tuple(current[n] for n in ident)] = target
        if t.ref_key in changed_cols:
            self._refs.pop(t.key, None)
        return "updated"

    @staticmethod
    def _without_any(t: ItemType, names: list[str], stage: Stage, staged: StagedSheet) -> set[int]:
        """Rows (not deletes, not duplicates) in which every mandatory_any column the file has is empty."""
        return stage.rows_without(staged, [i for i, n in enumerate(names) if n in t.mandatory_any]) - staged.duplicates

    def _check_create(self, t: ItemType, values: dict[str, Any]) -> None:
        """A row that creates needs every mandatory value (staging checked the columns the file has)."""
        missing = [f.name for f in t.fields if f.mandatory and values.get(f.name) is None]
        if missing:
            why = (f"the file has no {missing[0]} column" if len(missing) == 1 else "the file has no such columns")
            raise Reject(missing[0], f"no {t.label} matches this row, and creating one needs {', '.join(missing)} "
                         f"({why})")
        if not self._complete:
            self._check_object(t, values)

    @staticmethod
    def _check_object(t: ItemType, obj: dict[str, Any]) -> None:
        """The type's checks of a whole object, on the object as it would be stored."""
        if t.mandatory_any and not any(obj.get(n) for n in t.mandatory_any):
            raise Reject(None, f"one of {', '.join(t.mandatory_any)} is needed")
        if t.row_check is not None:
            reason = t.row_check({k: v for k, v in obj.items() if v is not None})
            if reason:
                column, _, why = reason.partition(": ")  # "Column: reason"
                raise Reject(column, why or reason)

    def _remember(self, t: ItemType, values: dict[str, Any], rid: int, idmaps: dict[tuple[str, ...], dict[tuple[Any, ...], int]]) -> None:
        for ident, ids in idmaps.items():
            if all(values.get(n) is not None for n in ident) and ident != ("Id",):
                ids[tuple(values[n] for n in ident)] = rid
        key = values.get(t.ref_key)
        if key is not None and t.key in self._refs:
            self._refs[t.key][key] = rid

    def _resolve(self, f: Field, name: str, t: ItemType, own_id: int | None, values: dict[str, Any]) -> int:
        target_t = self.catalog.by_key(f.ref or "")
        cache = self._refs.setdefault(target_t.key, {})
        rid = cache.get(name)
        if rid is None:
            rid = store.ref_id(self.db, target_t, name)
            if rid is None:
                hint = f" (import {target_t.label}s through the {target_t.folder} folder first)" if (
                    target_t.config_order is None and t.config_order is not None) else ""
                raise Reject(f.name, f"no {target_t.label} named {show(name)}{hint}")
            cache[name] = rid
        if target_t.key == t.key and f.kind == "ref":
            self._check_cycle(f, t, rid, own_id, values)
        return rid

    def _check_cycle(self, f: Field, t: ItemType, parent: int, own_id: int | None, values: dict[str, Any]) -> None:
        if own_id is None:
            return  # a new object cannot be anyone's ancestor yet
        chain: list[str] = []
        seen: set[int] = set()
        node: int | None = parent
        while node is not None and node not in seen:
            if node == own_id:
                path = " -> ".join([str(values.get(t.ref_key)), *chain, str(values.get(t.ref_key))])
                raise Reject(f.name, f"{f.name} would make a cycle ({path})")
            seen.add(node)
            chain.append(str(store.ref_name(self.db, t, node)))
            node = store.ref_of(self.db, t, f, node)


def _set_based(t: ItemType, names: list[str]) -> bool:
    """Whether the sheet's rows that match nothing are created in one statement: plain values only (no reference,
    link or list), no Id column, and every value a create needs (one of the mandatory_any columns is enough)."""
    own = [n for n in names if n != "Id"]
    return ("Id" not in names and all(t.field(n).ref != t.key and not t.field(n).is_link for n in own)
            and all(t.field(n).kind not in ("ref", "list") for n in own) and _complete(t, set(names), some_of_any=True))


def _complete(t: ItemType, names: set[str], some_of_any: bool = False) -> bool:
    """Whether a sheet with these columns holds every value a create needs and staging decided the object checks
    (``some_of_any``: one of the mandatory_any columns is enough)."""
    anyof = any if some_of_any and t.mandatory_any else all
    return (all(f.name in names for f in t.fields if f.mandatory)
            and anyof(n in names for n in t.mandatory_any) and all(n in names for n in t.check_fields))
