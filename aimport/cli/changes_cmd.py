"""``aimport changes ID``: what an import changed, item by item (created, deleted, ``Field: old -> new``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from aimport.cli.audit_cmd import shown
from aimport.cli.common import CommandError, add_settings, emit, need_store, settings_from, state_not_found

__all__ = ["COLUMNS", "register"]

COLUMNS = ["item_type", "item", "action", "field", "old", "new"]


def register(sub: Any) -> None:
    p = sub.add_parser("changes", help="what an import changed: created, deleted, Field: old -> new (table, --json "
                       "or --csv)",
                       description="List, per item, what import ID did: created, deleted, or each changed field "
                       "with its old and new value (links too: a user's queues and skills, a queue's skills). "
                       "Kept for revert_days; `aimport revert ID` puts it all back.")
    p.add_argument("id", type=int, help="import id (aimport audit list)")
    p.add_argument("--offset", type=int, default=0, help="skip this many changes (default 0)")
    p.add_argument("--limit", type=int, default=100, help="changes to show (default 100; 0: all)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="fmt", action="store_const", const="json", help="one JSON object: the page")
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv", help="CSV with a header row")
    add_settings(p, ["state_dir", "store", "revert_days"])
    p.set_defaults(handler=do_changes, fmt="table")


def do_changes(args: argparse.Namespace) -> int:
    from aimport.undo.changespage import NoSuchImport, changes_page

    settings = settings_from(args)
    if not settings.audit_db.exists():
        raise state_not_found(settings.state_dir, "no audit trail (audit.sqlite)")
    if args.offset < 0 or args.limit < 0:
        raise CommandError("--offset and --limit must be 0 or more", 2)
    try:
        page = changes_page(settings.audit_db, need_store(settings), args.id, args.offset, args.limit,
                            settings.revert_days)
    except NoSuchImport as exc:
        raise CommandError(str(exc)) from None
    if args.fmt == "json":
        json.dump(page.as_dict(), sys.stdout, indent=2, default=str)
        print()
        return 0
    rows = shown([c.as_dict() for c in page.changes])
    if args.fmt == "csv":
        emit(rows, COLUMNS, "csv")
        return 0
    for n in page.notes:
        print(n)
    if rows:
        emit(rows, COLUMNS)
    end = page.offset + len(page.changes)
    if page.total:
        more = f"; --offset {end} for more" if end < page.total else ""
        print(f"changes {page.offset + 1 if page.changes else page.offset}-{end} of {page.total}{more}")
    return 0
