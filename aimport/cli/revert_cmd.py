"""``aimport revert ID``: put back every item an import touched, in one transaction, recorded like an import."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import anyio

from aimport.cli.audit_cmd import shown
from aimport.cli.common import (
    LOCATION,
    CommandError,
    add_settings,
    need_root,
    need_store,
    settings_from,
    state_not_found,
    table,
)
from aimport.cli.retry_cmd import requested_by

if TYPE_CHECKING:
    from aimport.settings import Settings
    from aimport.undo.revert import RevertResult

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("revert", help="undo an import: created items removed, updated fields restored, deleted "
                       "items put back",
                       description="Revert import ID in one transaction under the write turn: the items it created "
                       "are removed, the fields it changed get their old values, the items it deleted come back "
                       "with their links. Refused (and the conflicts listed) when a later import changed the same "
                       "items, unless --force. Recorded like an import: an audit row, and a .log and .result "
                       "named yyyyMMdd_HHmmss_revert_of_ID_<file> in the type's History/. A revert can be "
                       "reverted. Exit code 0: reverted, 3: refused because of conflicts, 1: refused otherwise.")
    p.add_argument("id", type=int, help="import id (aimport audit list)")
    p.add_argument("--force", action="store_true", help="revert even when later imports changed the same items "
                   "(their changes to those fields are overwritten, and listed)")
    p.add_argument("--dry-run", action="store_true", help="only say what the revert would do (counts, conflicts, "
                   "what would be kept); nothing is changed or recorded")
    add_settings(p, [*LOCATION, "logon_user", "revert_days"])  # the logon user keeps its protections
    p.set_defaults(handler=do_revert)


def do_revert(args: argparse.Namespace) -> int:
    from aimport.undo.revertjob import RevertError, run_revert

    settings = settings_from(args)
    if not settings.audit_db.exists():
        raise state_not_found(settings.state_dir, "no audit trail (audit.sqlite)")
    need_store(settings)
    if not settings.logon_user:
        raise CommandError("give --logon-user (AIMPORT_LOGON_USER): the user automatic import acts as, which a revert "
                           "never deletes or strips of its rights", 2)
    if args.dry_run:
        return _dry_run(settings, args.id, args.force)
    need_root(settings)  # the revert's .log and .result go to the type's History/
    try:
        done = anyio.run(run_revert, settings, args.id, args.force, requested_by())
    except RevertError as exc:
        raise CommandError(str(exc)) from None
    for line in done.interrupted:
        print(line)
    res = done.result
    _conflicts(res)
    for note in res.notes:
        print(f"note: {note}")
    if res.refusal:
        print(f"revert refused: {res.refusal}; nothing was changed")
    else:
        verb = "was reverted (recorded now)" if done.resumed else "reverted"
        print(f"import {args.id} {verb}: restored {res.restored}, removed {res.removed}, recreated {res.recreated}")
    if done.revert_id is not None:
        print(f"recorded as import {done.revert_id}" + (f": {done.history}.result" if done.history else ""))
    if not res.refusal:
        return 0
    return 3 if res.conflicts else 1


def _dry_run(settings: Settings, import_id: int, force: bool) -> int:
    from aimport.undo.preview import preview_revert

    try:
        res = preview_revert(settings, import_id, force)
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    _conflicts(res)
    for note in res.notes:
        print(f"note: {note}")
    if res.refusal:
        print(f"the revert would be refused: {res.refusal}")
        return 3 if res.conflicts else 1
    print(f"the revert of import {import_id} would restore {res.restored}, remove {res.removed}, recreate "
          f"{res.recreated} (nothing was changed)")
    return 0


def _conflicts(res: RevertResult) -> None:
    if res.conflicts:
        print("overwritten (changed later by another import):" if not res.refusal else
              "conflicts (changed later by another import):")
        table(shown([{"item": c.item, "field": c.field, "later_import": _import_of(c.later)} for c in res.conflicts]),
              ["item", "field", "later_import"])


def _import_of(key: str) -> str:
    tail = key.rpartition("-")[2]
    return tail if tail.isdigit() else key
