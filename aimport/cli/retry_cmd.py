"""``aimport retry ID``: import the archived original of a failed or partial import again."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

import anyio

from aimport.cli.common import CommandError, add_settings, need_root, settings_from, state_not_found
from aimport.layout import display_name
from aimport.service import retries
from aimport.service.actionrefused import ActionRefused
from aimport.settings import Settings
from aimport.store.audit import Audit

__all__ = ["register", "requested_by"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "retry", help="import a failed or partial import's file again",
        description="Copies the archived original of import ID (History/<stamp>_<file>) back into its type's drop "
        "folder under its own name; the service imports it like a dropped file, and that import's audit row "
        "records retry_of ID (`aimport audit` shows it). A retry_requested event names who asked. Only a failed "
        "or partial import is retried, and never over a file of the same name waiting in the drop folder or "
        "importing (exit code 1, saying so). The jobs view's Retry button does the same.")
    p.add_argument("import_id", metavar="ID", type=int, help="the import's id (`aimport audit --failed` lists them)")
    add_settings(p)
    p.set_defaults(handler=do_retry)


def do_retry(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    need_root(settings)
    if not settings.audit_db.exists():
        raise state_not_found(settings.state_dir, "no audit trail (audit.sqlite)")
    who = requested_by()
    try:
        done = retries.drop_again(settings, args.import_id, who)
    except ActionRefused as refused:
        raise CommandError(refused.message) from None
    except OSError as exc:
        raise CommandError(f"cannot drop the file again: {exc.strerror or exc} (run as the service's user)") from None
    anyio.run(_record, settings, done, who)
    print(f"import {done.import_id} is retried: {done.import_type}/{display_name(done.file_name)} is in its drop "
          f"folder again ({done.dropped}); the service imports it like a dropped file, its audit row with "
          f"retry_of {done.import_id}")
    return 0


async def _record(settings: Settings, done: retries.Retry, who: str) -> None:
    async with Audit(settings.audit_db) as audit:
        await audit.event("retry_requested", done.import_id, file=done.file_name, type=done.import_type,
                          dropped=str(done.dropped), requested_by=who)


def requested_by() -> str:
    """Who runs the command (for ``requested_by``): the user name, or the uid when it has none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
