"""Archiving: move an imported file to History/ and write its side files."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from aimport import faults, servicelog
from aimport.atomicfile import write_atomic
from aimport.backoff import Backoff
from aimport.history import history_candidates, history_stamp, move_no_clobber
from aimport.importing.outcome import SheetTotals, Totals, counts
from aimport.layout import Layout, display_name
from aimport.service.observer import ImportObserver
from aimport.settings import Settings
from aimport.store.audit import Audit

if TYPE_CHECKING:
    from aimport.importing.outcome import ImportOutcome



class ArchiveContext(Protocol):
    """What archiving uses of the job context (aimport.service.jobcontext.JobContext has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def layout(self) -> Layout: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def observer(self) -> ImportObserver: ...


RESULT_ORDER = ("status", "type", "file", "rows", "created", "updated", "deleted", "unchanged", "rejected",
                "started", "finished", "duration_ms", "sha256", "error_code", "import_id", "actor")


def free_history_name(history_dir: Path, file_name: str, started: dt.datetime) -> str:
    """The first History name (and its .log) not taken yet."""
    for name in history_candidates(history_stamp(started), file_name):
        if not (history_dir / name).exists() and not (history_dir / f"{name}.log").exists():
            return name
    raise FileExistsError(f"no free history name for {file_name}")


def move_to_history(src: Path, history_dir: Path, preferred: str, started: dt.datetime) -> Path:
    """Move under ``preferred`` or, if that got taken meanwhile, the next free name."""
    names = history_candidates(history_stamp(started), src.name)
    try:
        start = names.index(preferred)  # names are made one by one up to it (the first, unless one was taken)
    except ValueError:
        start = 0
    return move_no_clobber(src, history_dir, itertools.islice(names, start, None))


def result_value(value: Any) -> str:
    """One ``.result`` value on one line: a backslash is ``\\\\``, a line break ``\\n``/``\\r``, other control
    characters ``\\xNN`` (so a file name with a newline cannot add or break a line)."""
    text = "" if value is None else str(value)
    return display_name(text.replace("\\", "\\\\"))


def result_text(fields: dict[str, Any], sheets: list[SheetTotals]) -> str:
    lines = [f"{k}: {result_value(fields.get(k))}" for k in RESULT_ORDER if k in fields]
    lines += [f"{k}: {result_value(v)}" for k, v in fields.items() if k not in RESULT_ORDER]
    for s in sheets:
        for k, n in s.totals.as_dict().items():  # rows, created, updated, deleted, unchanged, rejected
            lines.append(f"sheet.{result_value(s.sheet)}.{k}: {n}")
    return "\n".join(lines) + "\n"


def _check_folders(ctx: ArchiveContext, import_type: str) -> None:
    for p in ctx.layout.type_problems(import_type):
        raise NotADirectoryError(f"the folder {p.folder} {p.problem}; the file waits until it is a real folder again")


def write_side_files(dest: Path, log_text: str, fields: dict[str, Any], sheets: list[SheetTotals]) -> None:
    """``.log``, (unless succeeded) ``.err``, then ``.result`` last, each atomically.

    The ``.result`` is the completion marker: when it exists, the other side files are complete.
    """
    faults.oserror("side_files")
    write_atomic(dest.with_name(dest.name + ".log"), log_text)
    faults.point("mid_side_file")
    err = dest.with_name(dest.name + ".err")
    if fields.get("status") != "succeeded":
        write_atomic(err, f"{fields.get('error_code') or 'UNKNOWN'}\n")
    else:
        err.unlink(missing_ok=True)
    write_atomic(dest.with_name(dest.name + ".result"), result_text(fields, sheets))


def _write_side_files_from(dest: Path, log_path: Path | None, extra_log: str, fields: dict[str, Any],
                           sheets: list[SheetTotals], then: Callable[[], None] | None) -> None:
    log_text = log_path.read_text(encoding="utf-8") if log_path and log_path.exists() else ""
    write_side_files(dest, log_text + extra_log, fields, sheets)
    if then is not None:
        then()


def local_iso(at: dt.datetime) -> str:
    return at.astimezone().isoformat(timespec="milliseconds")


async def archive(ctx: ArchiveContext, import_id: int, src: Path, import_type: str, started: dt.datetime,
                  outcome: ImportOutcome, duration_ms: int, extra_log: str = "", file_name: str | None = None,
                  then: Callable[[], None] | None = None, finished: Callable[[], None] | None = None) -> None:
    """Move to History/ and write side files; on disk trouble retry with backoff (file stays recoverable).

    A retry after the move only writes the side files again (the file is never moved twice). ``then`` runs
    in the same worker thread right after the ``.result`` is written (file-system clean-up that must not
    block the event loop); ``finished`` right after the outcome is recorded in the audit trail.
    """
    history = ctx.layout.history_dir(import_type)
    dest: Path | None = src if src.parent == history else None  # recovery: already moved, side files missing
    recorded = ""
    backoff = Backoff()
    while True:
        try:
            if dest is None and not src.exists():
                await _vanished(ctx, import_id, import_type, src, outcome, duration_ms)
                if finished is not None:
                    finished()
                return
            faults.oserror("archive")
            _check_folders(ctx, import_type)  # History/ is a real folder inside the root, right before each use
            if dest is None:
                recorded = free_history_name(history, src.name, started)
                await ctx.audit.set_history(import_id, recorded)
                dest = await anyio.to_thread.run_sync(move_to_history, src, history, recorded, started)
            if recorded != dest.name and dest.parent == history and src.parent != history:
                await ctx.audit.set_history(import_id, dest.name)
                recorded = dest.name
            fields = {
                "status": outcome.status, "type": import_type, "file": file_name or src.name,
                **(outcome.totals or Totals()).as_dict(),
                "started": local_iso(started), "finished": local_iso(dt.datetime.now()),
                "duration_ms": duration_ms, "sha256": outcome.sha256, "error_code": outcome.error_code,
                "import_id": import_id, "actor": ctx.settings.logon_user,
            }
            fields.update(outcome.result_fields)
            # the disk work (reading the work log, three fsynced writes) runs off the event loop
            await anyio.to_thread.run_sync(_write_side_files_from, dest, outcome.log_path, extra_log, fields,
                                           outcome.sheets, then)
            break
        except (OSError, sqlite3.Error) as exc:
            where = "InProcess/" if dest is None else f"History/{dest.name} without its .result"
            # best effort: the audit trail may sit on the troubled disk, and this loop tries again anyway
            await ctx.audit.try_event("archive_failed", import_id, file=src.name, error=str(exc),
                                      retry_in_s=backoff.delay)
            servicelog.get().error(f"cannot archive {src.name}: {exc}; it stays in {where}, retrying in {backoff.delay:g}s",
                             extra={"import_id": import_id, "type": import_type, "file": src.name})
            ctx.observer.archive_failed(import_type)
            await backoff.wait()
    faults.point("after_archive")
    await ctx.audit.finish_import(import_id, outcome.status, outcome.error_code, outcome.sha256,
                                  outcome.totals, duration_ms)
    if finished is not None:
        finished()
    kind = "failed" if outcome.status == "failed" else "finished"
    phases = asdict(outcome.phases) if outcome.phases else {}  # stage_ms, apply_ms: where the worker's time went
    await ctx.audit.event(kind, import_id, file=file_name or src.name, history=dest.name, status=outcome.status,
                          error_code=outcome.error_code, **counts(outcome.totals), **phases)
    ctx.observer.import_done(import_type, outcome.status, outcome.totals, duration_ms / 1000)
    t = outcome.totals or Totals()
    servicelog.get().info(
        f"{outcome.status}: {file_name or src.name} -> History/{dest.name} (rows {t.rows}, created "
        f"{t.created}, updated {t.updated}, deleted {t.deleted}, rejected {t.rejected})",
        extra={"import_id": import_id, "type": import_type, "file": file_name or src.name, "status": outcome.status,
               "error_code": outcome.error_code})
    _remove_work_log(outcome)


async def _vanished(ctx: ArchiveContext, import_id: int, import_type: str, src: Path, outcome: ImportOutcome,
                    duration_ms: int) -> None:
    """The file was removed from InProcess/ before it could be archived: the audit trail keeps the outcome."""
    status, code = (outcome.status, outcome.error_code) if outcome.status != "failed" else ("failed", "FILE_VANISHED")
    await ctx.audit.finish_import(import_id, status, code, outcome.sha256, outcome.totals, duration_ms)
    await ctx.audit.event("file_vanished", import_id, file=src.name, type=import_type, status=outcome.status,
                          error_code=outcome.error_code, **counts(outcome.totals))
    servicelog.get().error(f"{src.name} was removed from InProcess/ before it could be archived (outcome "
                     f"{outcome.status}); nothing is in History/, the audit trail has the outcome",
                     extra={"import_id": import_id, "type": import_type, "file": src.name})
    _remove_work_log(outcome)


def _remove_work_log(outcome: ImportOutcome) -> None:
    """The work log is in History/ now (or its outcome in the audit trail). One a troubled state disk keeps
    (read-only: even removing a missing file fails there) is harmless: no later import has its key."""
    if outcome.log_path:
        try:
            outcome.log_path.unlink(missing_ok=True)
        except OSError:
            pass
