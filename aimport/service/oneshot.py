"""One file imported now, in the foreground (``aimport import``): the service's claim, run and archive, once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from aimport.importing.filestate import identity
from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import
from aimport.service.claims import Claim
from aimport.service.importjob import import_claimed
from aimport.service.jobcontext import JobContext
from aimport.service.storesetup import prepare_store
from aimport.settings import Settings
from aimport.store.audit import Audit, now_iso

__all__ = ["OneShotError", "OneShotResult", "import_one"]

Progress = Callable[[str, int], None]  # (phase, rows so far)


class OneShotError(Exception):
    """The file cannot be imported now; the message is one line for the user."""


@dataclass(frozen=True)
class OneShotResult:
    outcome: ImportOutcome
    history: Path  # where the file was archived (its .log/.result/.err sit beside it)


async def import_one(settings: Settings, file: Path, import_type: str, progress: Progress | None = None) -> OneShotResult:
    """Import ``file`` as ``import_type`` and archive it to History/ as the service would.

    A file in the type's drop folder is moved into InProcess/; any other file is copied (the
    original stays). Store or disk trouble is reported, not retried.
    """
    layout = settings.layout
    layout.survey((import_type,))
    for p in layout.type_problems(import_type):  # never write through a link out of the import root
        raise OneShotError(f"cannot import into {import_type}: the folder {p.folder} {p.problem}")
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    prepare_store(settings)
    dest = layout.in_process_dir(import_type) / file.name
    if dest.exists():
        raise OneShotError(f"{dest} already exists: a file of that name is being imported")
    size = file.stat().st_size
    if file.resolve().parent == layout.type_dir(import_type).resolve():
        file.rename(dest)
    else:
        shutil.copy2(file, dest)
    outcomes: list[ImportOutcome] = []

    async def runner(req: ImportRequest) -> ImportOutcome:  # in a thread of this process, with progress
        outcomes.append(await anyio.to_thread.run_sync(lambda: run_import(req, progress)))
        return outcomes[-1]

    async with Audit(settings.audit_db) as audit:
        ctx = JobContext(settings, layout, audit, await audit.uuid(), anyio.CapacityLimiter(1), runner=runner,
                         retry_transient=False)
        import_id = await audit.start_import(import_type, file.name, size, now_iso(), settings.logon_user or "cli")
        await audit.event("claimed", import_id, file=file.name, type=import_type, via="aimport import")
        key = ctx.import_key(import_id)  # bound to the file before the import starts, as the service does
        ident = identity(dest)
        if ident is not None:
            await anyio.to_thread.run_sync(ctx.claims.record, ident, import_type, dest.name, key)
        await import_claimed(ctx, Claim(dest, import_type, import_id, key, None, None))
        history_name = await audit.history_name(import_id)
    return OneShotResult(outcomes[-1], layout.history_dir(import_type) / history_name)
