"""The revert of one import, inside the caller's write transaction: deleted items put back with their links,
updated fields restored, created items removed; refused (nothing written) when a later import changed the same
items, unless forced. The revert keeps its own before-images, so it can be reverted too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aimport.importing.logonuser import LogonGuard
from aimport.itemtypes.catalog import CATALOG, USER, Catalog
from aimport.itemtypes.schema import ItemType
from aimport.store import changes, restore
from aimport.store import system as store
from aimport.store.db import Db
from aimport.undo.capture import BeforeImages

__all__ = ["Conflict", "RevertResult", "revert_import"]


@dataclass(frozen=True)
class Conflict:
    """A later import changed an item this one touched: the item, the field (or ``(deleted)``), that import's key."""

    item: str
    field: str
    later: str


@dataclass
class RevertResult:
    restored: int = 0  # items whose fields were put back
    removed: int = 0  # created items removed (a campaign with its customers counts once)
    recreated: int = 0  # deleted items put back
    conflicts: list[Conflict] = field(default_factory=list)
    refusal: str = ""  # why nothing was done (then nothing was written)
    notes: list[str] = field(default_factory=list)  # what was kept as it is, and why

    @property
    def counts(self) -> dict[str, int]:
        return {"restored": self.restored, "removed": self.removed, "recreated": self.recreated}


def revert_import(db: Db, import_key: str, revert_key: str, force: bool = False, logon_user: str | None = None,
                  revert_days: int = 30, catalog: Catalog = CATALOG) -> RevertResult:
    """Revert ``import_key`` as ``revert_key`` in the caller's transaction (taken with the write turn)."""
    res = RevertResult()
    if changes.pruned(db, import_key, revert_days):
        res.refusal = (f"what it changed is not kept: it committed more than revert_days ({revert_days}) ago, or "
                       "before this store kept before-images (import an older export instead)")
        return res
    prior = changes.reverted_by(db, import_key)
    if prior:
        res.refusal = f"it was already reverted (by {prior}); revert that revert to apply it again"
        return res
    batches = changes.batches(db, import_key)
    created: dict[str, list[int]] = defaultdict(list)
    for t in catalog.all():
        created[t.key] += changes.created_ids(db, t, import_key)
    for b in batches:
        if b.action == "created":
            created[b.item_type] += [int(i) for i in b.data]
    campaigns = restore.campaigns_created_by(db, import_key)
    campaigns += restore.campaigns_by_id(db, created.pop("campaign", []))
    if not batches and not any(created.values()) and not campaigns:
        res.refusal = ("no change of this import is kept: it changed nothing, or its before-images were pruned "
                       "(they are kept for revert_days)")
        return res
    for c in campaigns:
        if restore.campaign_has_results(db, int(c["id"])):
            res.refusal = (f"campaign {c['name']!r} has call results recorded: an OutboundCampaign import can be "
                           "reverted only while no call result is recorded")
            return res
    res.conflicts = _conflicts(db, batches, created, import_key, catalog)
    if res.conflicts and not force:
        res.refusal = f"{len(res.conflicts)} change(s) of later imports touch the same items (--force reverts anyway)"
        return res
    undo = BeforeImages(db, revert_key)
    guard = LogonGuard.load(db, logon_user)
    for t in catalog.all():  # dependency order: what a restored item refers to is back first
        for b in batches:
            if b.item_type == t.key and b.action == "deleted":
                for rid, row, links in b.data:
                    _recreate(db, t, int(rid), row, links, revert_key, undo, res)
    _restore_updates(db, batches, revert_key, undo, guard, res, catalog)
    for t in reversed(list(catalog.all())):  # what refers to others goes first
        for rid in sorted(set(created.get(t.key, ())), reverse=True):
            _remove(db, t, rid, undo, guard, res, catalog)
    for c in campaigns:
        customers = restore.delete_campaign(db, int(c["id"]))
        undo.deleted_row("campaign", int(c["id"]), c, {"customers": customers})
        res.removed += 1
    for b in batches:
        if b.item_type == "campaign" and b.action == "deleted":
            for rid, row, extra in b.data:
                restore.insert_rows(db, "campaigns", [row])
                restore.insert_rows(db, "customers", extra.get("customers") or [])
                undo.created("campaign", int(rid))
                res.recreated += 1
    undo.flush()
    changes.unset_reverted(db, import_key)  # a revert reverted: the import it undid is applied again
    changes.set_reverted(db, import_key, revert_key)
    return res


def _label(db: Db, t: ItemType, rid: int, row: dict[str, Any] | None = None) -> str:
    name = restore.item_name(db, t, rid)
    if name is None and row is not None:
        name = row.get(t.field(t.ref_key).column)
    return f"{t.label} {name if name is not None else f'#{rid}'}"


def _conflicts(db: Db, batches: list[changes.ChangeBatch], created: dict[str, list[int]], import_key: str,
               catalog: Catalog) -> list[Conflict]:
    """Changes of later imports to the items this import touched (any change to an item it created)."""
    since: dict[tuple[str, int], int] = {}
    for b in batches:  # an item put back by a revert (a created batch): changes after it
        for entry in b.data:
            rid = int(entry if b.action == "created" else entry[0])
            since.setdefault((b.item_type, rid), b.seq)
    for k, ids in created.items():  # an item the import created: any change by another import came later
        for i in ids:
            since.setdefault((k, i), 0)
    out: list[Conflict] = []
    seen: set[tuple[str, int, str, str]] = set()
    # changes to these items come after this import's first batch (its created items did not exist before it)
    after = min((b.seq for b in batches), default=1) - 1
    for b in changes.later_batches(db, after, {k for k, _ in since}, import_key):
        for entry in b.data:
            rid = int(entry if b.action == "created" else entry[0])
            start = since.get((b.item_type, rid))
            if start is None or b.seq <= start:
                continue
            what = list(b.fields) if b.action == "updated" else [f"({b.action})"]
            for f in what:
                if (b.item_type, rid, f, b.import_key) in seen:
                    continue
                seen.add((b.item_type, rid, f, b.import_key))
                row = entry[1] if b.action == "deleted" else None
                label = (f"campaign #{rid}" if b.item_type == "campaign"
                         else _label(db, catalog.by_key(b.item_type), rid, row))
                out.append(Conflict(label, f, b.import_key))
    return out


def _recreate(db: Db, t: ItemType, rid: int, row: dict[str, Any], links: dict[str, list[list[Any]]],
              revert_key: str, undo: BeforeImages, res: RevertResult) -> None:
    label = f"{t.label} {row.get(t.field(t.ref_key).column)}"
    if store.get_rows(db, t, [rid]):
        res.notes.append(f"{label}: already there, left as it is")
        return
    for ident in t.identification:
        if ident == ("Id",) or any(row.get(t.field(n).column) is None for n in ident):
            continue
        other = store.find_ids(db, t, ident, [tuple(row[t.field(n).column] for n in ident)])
        if other:
            res.notes.append(f"{label}: not put back: its {'/'.join(ident)} belongs to another {t.label} now")
            return
    kept: dict[str, list[list[Any]]] = {}
    for f in t.link_fields:
        target = CATALOG.by_key(f.ref or "")
        pairs = links.get(f.name) or []
        there = restore.names_of(db, target, [int(p[0]) for p in pairs])
        kept[f.name] = [p for p in pairs if int(p[0]) in there]
        if len(kept[f.name]) < len(pairs):
            res.notes.append(f"{label}: {f.name}: {len(pairs) - len(kept[f.name])} {target.label}(s) no longer exist")
    restore.insert_row(db, t, {**row, "updated_by": revert_key}, kept)
    undo.created(t.key, rid)
    res.recreated += 1


def _restore_updates(db: Db, batches: list[changes.ChangeBatch], revert_key: str, undo: BeforeImages,
                     guard: LogonGuard, res: RevertResult, catalog: Catalog) -> None:
    """Put back the first old value of every field the import changed (last batch first)."""
    olds: dict[tuple[str, int], dict[str, Any]] = {}
    for b in reversed(batches):
        if b.action != "updated":
            continue
        for entry in reversed(b.data):
            olds.setdefault((b.item_type, int(entry[0])), {}).update(zip(b.fields, entry[1:]))
    for (key, rid), old in olds.items():
        t = catalog.by_key(key)
        current = store.get_rows(db, t, [rid]).get(rid)
        label = _label(db, t, rid)
        if current is None:
            res.notes.append(f"{label}: deleted by a later import, not restored")
            continue
        if t is USER and guard.rid == rid:
            for n in ("Login", "Rights"):
                probe = {"Login": old.get("Login"), "Rights": _rights(old.get("Rights"))}
                if n in old and guard.refusal(rid, False, probe, [n]):
                    res.notes.append(f"{label}: {n} kept: it is the logon user automatic import acts as")
                    old.pop(n)
        cols: dict[str, Any] = {}
        links: dict[str, list[tuple[int, int | None]]] = {}
        before_links: dict[str, list[tuple[int, int | None]]] = {}
        for n, value in old.items():
            f = t.field(n)
            if f.is_link:
                target = catalog.by_key(f.ref or "")
                there = restore.names_of(db, target, [int(p[0]) for p in value or []])
                pairs = [(int(p[0]), p[1]) for p in value or [] if int(p[0]) in there]
                if len(pairs) < len(value or []):
                    res.notes.append(f"{label}: {n}: {len(value) - len(pairs)} {target.label}(s) no longer exist")
                now = store.get_links(db, t, f, rid)
                if now != pairs:
                    links[n], before_links[n] = pairs, now
            elif current.get(n) != value:
                if f.kind == "ref" and value is not None and restore.item_name(db, catalog.by_key(f.ref or ""), value) is None:
                    res.notes.append(f"{label}: {n}: the {f.ref} it referred to no longer exists, left as it is")
                    continue
                cols[n] = value
        for ident in t.identification:
            if ident != ("Id",) and any(n in cols for n in ident):
                key_value = tuple(cols.get(n, current.get(n)) for n in ident)
                owner = store.find_ids(db, t, ident, [key_value]) if None not in key_value else {}
                if owner and next(iter(owner.values())) != rid:
                    res.notes.append(f"{label}: {'/'.join(ident)} kept: the old value belongs to another {t.label} now")
                    for n in ident:
                        cols.pop(n, None)
        if not cols and not links:
            continue
        undo.updated(t, rid, current, cols, before_links)
        store.update(db, t, rid, cols, revert_key)
        for n, pairs in links.items():
            store.set_links(db, t, t.field(n), rid, pairs)
        res.restored += 1


def _rights(value: Any) -> list[str]:
    import json

    return list(json.loads(value)) if isinstance(value, str) and value else []


def _remove(db: Db, t: ItemType, rid: int, undo: BeforeImages, guard: LogonGuard, res: RevertResult,
            catalog: Catalog) -> None:
    if not store.get_rows(db, t, [rid]):
        return  # deleted since (listed as a conflict)
    label = _label(db, t, rid)
    if t is USER and guard.rid == rid:
        res.notes.append(f"{label}: kept: it is the logon user automatic import acts as (a revert never deletes it)")
        return
    users = store.referenced_by(db, t, rid, catalog)
    if users:
        res.notes.append(f"{label}: kept: still used by {', '.join(users)}")
        return
    undo.deleted(t, rid)
    store.delete(db, t, rid)
    res.removed += 1
