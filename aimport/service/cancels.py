"""Cancelling a file that waits in its drop folder (queued, or held for the end of office hours): ``aimport cancel``
and the jobs view's Cancel.

The cancel claims the file the way the service does (:func:`aimport.filelock.try_lock` on the file, then a
rename out of the drop folder), so of a cancel and the service's claim exactly one wins: a file the service
locked or already moved to InProcess/ is "already importing" (:class:`ActionRefused`, 409). The cancelled
file goes to ``History/`` under its History name with a ``.log`` saying who cancelled it and a ``.result`` of
status ``cancelled``; nothing is applied. Its audit row has status ``cancelled``, and a ``cancelled`` event
names who asked (``requested_by``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import anyio

from aimport import filelock
from aimport.atomicfile import write_atomic
from aimport.importing.outcome import Status
from aimport.layout import IMPORT_TYPES, display_name
from aimport.service.actionrefused import ActionRefused
from aimport.service.archive import free_history_name, local_iso, move_to_history, result_text
from aimport.service.filters import ImportFileFilter
from aimport.settings import Settings
from aimport.store.audit import Audit

logger = logging.getLogger(__name__)

__all__ = ["Cancelled", "cancel_file", "waiting_file"]


@dataclass(frozen=True)
class Cancelled:
    import_id: int
    import_type: str
    file_name: str
    history: Path  # the file in History/


def waiting_file(settings: Settings, import_type: str, name: str) -> Path:
    """The file ``name`` of ``import_type``'s drop folder (it need not exist); ActionRefused when the type or
    name cannot be one."""
    if import_type not in IMPORT_TYPES:
        raise ActionRefused(400, f"unknown import type {display_name(import_type)!r} (one of {', '.join(IMPORT_TYPES)})")
    if not name or "/" in name or "\x00" in name or name in (".", "..") or not ImportFileFilter().name_ok(name).accept:
        raise ActionRefused(400, f"{display_name(name)!r} is not the name of a file in a drop folder")
    return settings.layout.type_dir(import_type) / name


def _claim_for_cancel(settings: Settings, import_type: str, path: Path, when: dt.datetime) -> tuple[Path, int]:
    """Lock ``path`` and move it to History/ (the service's claim loses: the file is gone from the drop folder);
    returns the History path and the size."""
    shown = f"{import_type}/{display_name(path.name)}"
    fd, elsewhere = filelock.try_lock(path)
    if elsewhere:
        raise ActionRefused(409, f"{shown} is already importing (the service is claiming it now): it cannot be cancelled")
    if fd is None:
        if (settings.layout.in_process_dir(import_type) / path.name).exists():
            raise ActionRefused(409, f"{shown} is already importing (it is in InProcess/): it cannot be cancelled")
        raise ActionRefused(404, f"no file {shown} waits in the drop folder (`aimport status` lists the waiting files)")
    try:
        size = os.fstat(fd).st_size
        history = settings.layout.history_dir(import_type)
        name = free_history_name(history, path.name, when)
        try:
            return move_to_history(path, history, name, when), size
        except FileNotFoundError:  # another cancel, or a claim through another name, took it first
            raise ActionRefused(409, f"{shown} left the drop folder meanwhile (already importing, or cancelled): "
                                     "`aimport audit` says which") from None
    finally:
        filelock.release(fd)


async def cancel_file(settings: Settings, audit: Audit, import_type: str, path: Path, requested_by: str) -> Cancelled:
    """Cancel the waiting file ``path`` of ``import_type`` (see the module's text); ActionRefused saying why not."""
    when = dt.datetime.now().astimezone()
    dest, size = await anyio.to_thread.run_sync(_claim_for_cancel, settings, import_type, path, when)
    import_id = await audit.record_cancelled(import_type, path.name, size, dest.name, settings.logon_user)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    log = (f"{stamp} INFO    cancelled {display_name(path.name)} ({import_type}) before it was imported; "
           f"requested by {requested_by}\n{stamp} INFO    nothing was applied\n")
    fields = {"status": Status.CANCELLED.value, "type": import_type, "file": path.name, "rows": 0,
              "started": local_iso(when), "finished": local_iso(when), "duration_ms": 0, "import_id": import_id,
              "actor": settings.logon_user, "requested_by": requested_by}

    def side_files() -> None:  # the .result last: it marks the others complete
        write_atomic(dest.with_name(dest.name + ".log"), log)
        write_atomic(dest.with_name(dest.name + ".result"), result_text(fields, []))

    await anyio.to_thread.run_sync(side_files)
    await audit.event("cancelled", import_id, file=path.name, type=import_type, history=dest.name,
                      requested_by=requested_by)
    logger.info(f"cancelled {import_type}/{display_name(path.name)} (requested by {requested_by}): moved to "
                f"History/{display_name(dest.name)}, nothing applied")
    return Cancelled(import_id, import_type, path.name, dest)
