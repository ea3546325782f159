"""``aimport cancel FILE``: take a queued or held file out of its drop folder without importing it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import anyio

from aimport.cli.common import CommandError, command, need_root, settings_from
from aimport.cli.retry_cmd import requested_by
from aimport.layout import IMPORT_TYPES, display_name
from aimport.service.actionrefused import ActionRefused
from aimport.service.cancels import Cancelled, cancel_file, waiting_file
from aimport.settings import Settings
from aimport.store.audit import Audit

__all__ = ["register"]


def register(sub: Any) -> None:
    command(
        sub, "cancel", "move a queued or held file to History/ without importing it",
        "Takes FILE out of its drop folder before the service imports it: it goes to History/ with a "
        ".log saying who cancelled it and a .result of status cancelled; nothing is applied. The audit trail gets "
        "a row of status cancelled and a cancelled event with requested_by. The cancel claims the file as the "
        "service does, so when the service is claiming or importing it the cancel is refused (exit code 1, "
        "\"already importing\"). FILE is the file's path in a drop folder, or TYPE/NAME (Skills/agents.xlsx). "
        "The jobs view's Cancel button does the same.",
        do_cancel, ("file", "the waiting file: its path in a drop folder, or TYPE/NAME"))


def do_cancel(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    need_root(settings)
    import_type, name = _which(settings, args.file)
    try:
        path = waiting_file(settings, import_type, name)
        done = anyio.run(_cancel, settings, import_type, path, requested_by())
    except ActionRefused as refused:
        raise CommandError(refused.message) from None
    except OSError as exc:
        raise CommandError(f"cannot cancel {display_name(args.file)}: {exc.strerror or exc} (run as the service's "
                           "user)") from None
    print(f"cancelled {done.import_type}/{display_name(done.file_name)}: moved to {done.history} with status "
          f"cancelled (import {done.import_id}), nothing applied")
    return 0


def _which(settings: Settings, given: str) -> tuple[str, str]:
    """(import type, file name) of FILE: a path in a drop folder, or TYPE/NAME."""
    path = Path(given)
    found = settings.layout.type_of(path.absolute())
    if found is not None:
        return found, path.name
    first, _, rest = given.partition("/")
    if first in IMPORT_TYPES and rest and "/" not in rest:
        return first, rest
    raise CommandError(f"{display_name(given)} is neither a file in a drop folder ({settings.layout.automatic}/<Type>/) "
                       f"nor TYPE/NAME with TYPE one of {', '.join(IMPORT_TYPES)}")


async def _cancel(settings: Settings, import_type: str, path: Path, who: str) -> Cancelled:
    async with Audit(settings.audit_db) as audit:
        return await cancel_file(settings, audit, import_type, path, who)
