"""Archiving: move an imported file to History/ and write its side files."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from aimport import faults
from aimport.atomicfile import write_atomic
from aimport.errors import ErrorCode
from aimport.history import history_candidates, history_stamp, move_no_clobber, place_rejected
from aimport.importing.outcome import SheetTotals, Totals, counts
from aimport.importing.rejectedscratch import work_file
from aimport.layout import Layout, display_name
from aimport.service.backoff import Backoff
from aimport.service.observer import ImportObserver
from aimport.settings import Settings
from aimport.store.audit import Audit

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aimport.importing.outcome import ImportOutcome

__all__ = [
    "RESULT_ORDER",
    "ArchiveContext",
    "Archived",
    "archive",
    "archive_and_record",
    "free_history_name",
    "move_to_history",
    "record",
    "report",
    "result_text",
    "write_side_files",
]


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
                           sheets: list[SheetTotals]) -> None:
    log_text = log_path.read_text(encoding="utf-8") if log_path and log_path.exists() else ""
    rejected = work_file(log_path)  # a partial import's rejected rows (aimport.importing.rejectedwrite)
    if rejected is not None and fields.get("status") == "partial":  # beside the file, before the .result names it
        try:
            fields = {**fields, "rejected_file": place_rejected(rejected, dest)}
        except FileExistsError:  # every name it may take holds another file: the REJECT lines list the rows
            logger.warning(f"no free name in History/ for the rejected rows of {dest.name}; the .log lists them")
        faults.point("mid_rejected_file")
    write_side_files(dest, log_text + extra_log, fields, sheets)


def local_iso(at: dt.datetime) -> str:
    return at.astimezone().isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Archived:
    """An import whose file is archived (or vanished): what :func:`record` and :func:`report` need."""

    import_id: int
    import_type: str
    file: str  # the name it was imported as
    history: Path | None  # its History/ path; None: it vanished from InProcess/ before it could be archived
    outcome: ImportOutcome
    duration_ms: int


async def archive(ctx: ArchiveContext, import_id: int, src: Path, import_type: str, started: dt.datetime,
                  outcome: ImportOutcome, duration_ms: int, extra_log: str = "",
                  file_name: str | None = None) -> Archived:
    """Move to History/ and write side files; on disk trouble retry with backoff (file stays recoverable).

    A retry after the move only writes the side files again (the file is never moved twice). Returns once
    the ``.result`` is written (or the file is found gone); the caller then records the outcome
    (:func:`record`), gives the import's slot back and reports it (:func:`report`), in that order.
    """
    history = ctx.layout.history_dir(import_type)
    dest: Path | None = src if src.parent == history else None  # recovery: already moved, side files missing
    name = file_name or src.name
    recorded = ""
    backoff = Backoff()
    while True:
        try:
            if dest is None and not src.exists():
                return Archived(import_id, import_type, name, None, outcome, duration_ms)
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
                "status": outcome.status, "type": import_type, "file": name,
                **(outcome.totals or Totals()).as_dict(),
                "started": local_iso(started), "finished": local_iso(dt.datetime.now()),
                "duration_ms": duration_ms, "sha256": outcome.sha256, "error_code": outcome.error_code,
                "import_id": import_id, "actor": ctx.settings.logon_user,
            }
            fields.update(outcome.result_fields)
            # the disk work (reading the work log, three fsynced writes) runs off the event loop
            await anyio.to_thread.run_sync(_write_side_files_from, dest, outcome.log_path, extra_log, fields,
                                           outcome.sheets)
            return Archived(import_id, import_type, name, dest, outcome, duration_ms)
        except (OSError, sqlite3.Error) as exc:
            where = "InProcess/" if dest is None else f"History/{dest.name} without its .result"
            # best effort: the audit trail may sit on the troubled disk, and this loop tries again anyway
            await ctx.audit.try_event("archive_failed", import_id, file=src.name, error=str(exc),
                                      retry_in_s=backoff.delay)
            logger.error(f"cannot archive {src.name}: {exc}; it stays in {where}, retrying in {backoff.delay:g}s",
                             extra={"import_id": import_id, "type": import_type, "file": src.name})
            ctx.observer.archive_failed(import_type)
            await backoff.wait()


async def record(ctx: ArchiveContext, done: Archived) -> None:
    """Record the outcome in the import's audit row (its ``finished_at``: the import no longer counts
    against the limit). A file that vanished before it was archived keeps its outcome here only."""
    outcome = done.outcome
    status, code = outcome.status, outcome.error_code
    if done.history is None:
        if status == "failed":
            code = ErrorCode.FILE_VANISHED
    else:
        faults.point("after_archive")
    await ctx.audit.finish_import(done.import_id, status, code, outcome.sha256, outcome.totals, done.duration_ms)


async def report(ctx: ArchiveContext, done: Archived) -> None:
    """After the outcome is recorded: the ``finished`` (``failed``, ``file_vanished``) event, the metrics,
    the log line; the work log is removed (it is in History/ now, or its outcome in the audit trail)."""
    outcome, import_id, import_type, name = done.outcome, done.import_id, done.import_type, done.file
    if done.history is None:
        await ctx.audit.event("file_vanished", import_id, file=name, type=import_type, status=outcome.status,
                              error_code=outcome.error_code, **counts(outcome.totals))
        logger.error(f"{name} was removed from InProcess/ before it could be archived (outcome "
                         f"{outcome.status}); nothing is in History/, the audit trail has the outcome",
                         extra={"import_id": import_id, "type": import_type, "file": name})
        _remove_work_log(outcome)
        return
    kind = "failed" if outcome.status == "failed" else "finished"
    phases = asdict(outcome.phases) if outcome.phases else {}  # stage_ms, apply_ms: where the worker's time went
    await ctx.audit.event(kind, import_id, file=name, history=done.history.name, status=outcome.status,
                          error_code=outcome.error_code, **counts(outcome.totals), **phases)
    ctx.observer.import_done(import_type, outcome.status, outcome.totals, done.duration_ms / 1000)
    t = outcome.totals or Totals()
    logger.info(
        f"{outcome.status}: {name} -> History/{done.history.name} (rows {t.rows}, created "
        f"{t.created}, updated {t.updated}, deleted {t.deleted}, rejected {t.rejected})",
        extra={"import_id": import_id, "type": import_type, "file": name, "status": outcome.status,
               "error_code": outcome.error_code})
    _remove_work_log(outcome)


async def archive_and_record(ctx: ArchiveContext, import_id: int, src: Path, import_type: str,
                             outcome: ImportOutcome, extra_log: str, file_name: str | None) -> None:
    """Archive, record and report an import that holds no slot (recovery of a committed file)."""
    done = await archive(ctx, import_id, src, import_type, dt.datetime.now().astimezone(), outcome, 0, extra_log,
                         file_name)
    await record(ctx, done)
    await report(ctx, done)


def _remove_work_log(outcome: ImportOutcome) -> None:
    """The work log is in History/ now (or its outcome in the audit trail). One a troubled state disk keeps
    (read-only: even removing a missing file fails there) is harmless: no later import has its key."""
    for path in (work_file(outcome.log_path), outcome.log_path):  # the rejected rows are in History/ too
        try:
            if path is not None:
                path.unlink(missing_ok=True)
        except OSError:
            pass
