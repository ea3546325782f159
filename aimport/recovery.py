"""Start-up recovery: finish what a crash interrupted, never applying a row twice.

A file in InProcess/ whose transaction committed (the store's ledger knows
its import) is only archived again; one that did not commit is imported
again from scratch. An audit row left open whose file already reached
History/ only gets its side files rewritten (or, if nothing was committed,
is imported again where it lies). A file another live instance holds (its
lock) is left alone.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio

from aimport.archive import archive
from aimport.filters import ImportFileFilter
from aimport.job import JobContext, ledger_outcome, lock, run_claimed
from aimport.layout import IMPORT_TYPES
from aimport.worker import ImportOutcome

NOTE = "{} recovered after a restart: {}\n"
Todo = tuple[int, Path, int | None]  # import id, file, lock fd


async def recover(ctx: JobContext, limiter: anyio.CapacityLimiter) -> int:
    """Recover every interrupted import; returns how many were recovered."""
    by_file: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in await ctx.audit.open_imports():  # oldest first
        by_file[(r["import_type"], r["file_name"])].append(r)
    todo: dict[str, list[Todo]] = defaultdict(list)  # per type, in arrival order
    count = 0
    flt = ImportFileFilter()
    for t in IMPORT_TYPES:
        folder = ctx.layout.in_process_dir(t)
        if ctx.layout.type_problems(t):  # a link or a file in a folder's place: never read (the folder check reports it)
            continue
        for path in sorted(folder.iterdir(), key=_mtime):
            if not flt.check(path).accept:
                continue
            fd, elsewhere = lock(path)
            if elsewhere:
                continue  # another instance is importing it right now
            rows = by_file.get((t, path.name))
            row = rows.pop() if rows else None  # the newest open import of that name owns the file
            if row is None:  # killed between the claim (rename) and the audit row
                import_id = await ctx.audit.start_import(t, path.name, path.stat().st_size, _now(), ctx.settings.logon_user)
            else:
                import_id = row["id"]
            count += 1
            outcome = ledger_outcome(ctx, import_id)
            hist = ctx.layout.history_dir(t) / row["history_name"] if row and row.get("history_name") else None
            if hist is not None and _same_file(hist, path):  # killed between the History link and the unlink
                (path if outcome is not None else hist).unlink()
                path = hist if outcome is not None else path
            await ctx.audit.event("recovered", import_id, file=path.name, type=t, committed=outcome is not None)
            if outcome is not None:
                try:
                    await archive(ctx, import_id, path, t, dt.datetime.now().astimezone(), outcome, 0,
                                  NOTE.format(_stamp(), "the import had committed; only archiving was redone"),
                                  file_name=row["file_name"] if row else None)
                finally:
                    _close(fd)
            else:
                _note(ctx, import_id, "nothing of the interrupted import had been applied; importing it again")
                todo[t].append((import_id, path, fd))
    for rows in by_file.values():
        for leftover in rows:
            count += 1
            again = await _reconcile_open_row(ctx, leftover)
            if again is not None:
                todo[leftover["import_type"]].append(again)
    async with anyio.create_task_group() as tg:
        for t, items in todo.items():
            tg.start_soon(_reimport, ctx, limiter, t, items)
    return count


async def _reimport(ctx: JobContext, limiter: anyio.CapacityLimiter, t: str, items: list[Todo]) -> None:
    """Import again, one file of a type at a time in arrival order (as the lanes do)."""
    for import_id, path, fd in items:
        async with limiter:
            await run_claimed(ctx, import_id, path, t, recovered=True, lock_fd=fd)


async def _reconcile_open_row(ctx: JobContext, row: dict[str, Any]) -> Todo | None:
    """An open audit row whose file is no longer in InProcess/; returns what to import again, if anything."""
    import_id, t = row["id"], row["import_type"]
    outcome = ledger_outcome(ctx, import_id)
    hist = ctx.layout.history_dir(t) / row["history_name"] if row.get("history_name") else None
    if hist is not None and hist.exists():
        fd, elsewhere = lock(hist)
        await ctx.audit.event("recovered", import_id, file=row["file_name"], type=t, committed=outcome is not None,
                              step="side files")
        result = hist.with_name(hist.name + ".result")
        if outcome is None and result.exists():  # a failure the ledger does not know, archived: audit only
            done = dict(line.split(": ", 1) for line in result.read_text(encoding="utf-8").splitlines() if ": " in line)
            await ctx.audit.finish_import(import_id, done.get("status", "failed"), done.get("error_code") or None,
                                          done.get("sha256") or None, {}, 0)
            _close(fd)
            return None
        if outcome is None:  # moved to History/ but nothing committed (a failure the ledger does not know)
            _note(ctx, import_id, "the file was in History/ without its .result and nothing had been applied; "
                                  "importing it again")
            return import_id, hist, fd
        try:
            await archive(ctx, import_id, hist, t, dt.datetime.now().astimezone(), outcome, 0,
                          NOTE.format(_stamp(), "the file was archived; side files were rewritten"),
                          file_name=row["file_name"])
        finally:
            _close(fd)
        return None
    await ctx.audit.event("recovered", import_id, file=row["file_name"], type=t, committed=outcome is not None,
                          step="file missing")
    lost = outcome or ImportOutcome("failed", "FILE_VANISHED", row.get("sha256") or "")
    await ctx.audit.finish_import(import_id, lost.status, lost.error_code, lost.sha256, lost.totals, 0)
    return None


def _note(ctx: JobContext, import_id: int, text: str) -> None:
    log_path = ctx.settings.work_dir / f"{ctx.import_key(import_id)}.log"
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(NOTE.format(_stamp(), text))


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _mtime(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def _now() -> str:
    from aimport.audit import now_iso

    return now_iso()


def _stamp() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
