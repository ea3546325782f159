"""Start-up recovery: finish what a crash interrupted, never applying a row twice.

A file in InProcess/ whose transaction committed (the store's ledger knows
its import) is only archived again; one that did not commit is imported
again from scratch. An audit row left open whose file already reached
History/ only gets its side files rewritten.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import anyio

from aimport.filters import ImportFileFilter
from aimport.job import JobContext, archive, is_held_elsewhere, ledger_outcome, run_claimed
from aimport.layout import IMPORT_TYPES
from aimport.worker import ImportOutcome

NOTE = "{} recovered after a restart: {}\n"


async def recover(ctx: JobContext, limiter: anyio.CapacityLimiter) -> int:
    """Recover every interrupted import; returns how many were recovered."""
    open_rows = await ctx.audit.open_imports()
    by_file: dict[tuple[str, str], dict[str, Any]] = {(r["import_type"], r["file_name"]): r for r in open_rows}
    todo: list[tuple[int, Path, str]] = []
    count = 0
    flt = ImportFileFilter()
    for t in IMPORT_TYPES:
        folder = ctx.layout.in_process_dir(t)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns if p.exists() else 0):
            if not flt.check(path).accept or is_held_elsewhere(path):
                continue
            open_row = by_file.pop((t, path.name), None)
            if open_row is None:
                import_id = await ctx.audit.start_import(t, path.name, path.stat().st_size, _now(), ctx.settings.logon_user)
            else:
                import_id = open_row["id"]
            count += 1
            outcome = ledger_outcome(ctx, import_id)
            await ctx.audit.event("recovered", import_id, file=path.name, type=t, committed=outcome is not None)
            if outcome is not None:
                await archive(ctx, import_id, path, t, dt.datetime.now().astimezone(), outcome, 0,
                              NOTE.format(_stamp(), "the import had committed; only archiving was redone"))
            else:
                todo.append((import_id, path, t))
    for leftover in by_file.values():
        count += 1
        await _reconcile_open_row(ctx, leftover)
    async with anyio.create_task_group() as tg:
        for import_id, path, t in todo:
            tg.start_soon(_reimport, ctx, limiter, import_id, path, t)
    return count


async def _reimport(ctx: JobContext, limiter: anyio.CapacityLimiter, import_id: int, path: Path, t: str) -> None:
    log_path = ctx.settings.work_dir / f"{ctx.import_key(import_id)}.log"
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(NOTE.format(_stamp(), "nothing of the interrupted import had been applied; importing it again"))
    async with limiter:
        await run_claimed(ctx, import_id, path, t, recovered=True)


async def _reconcile_open_row(ctx: JobContext, row: dict[str, Any]) -> None:
    """An open audit row whose file is no longer in InProcess/."""
    import_id, t = row["id"], row["import_type"]
    history = ctx.layout.history_dir(t)
    outcome = ledger_outcome(ctx, import_id)
    hist = history / row["history_name"] if row.get("history_name") else None
    if hist is not None and hist.exists() and outcome is not None:
        await ctx.audit.event("recovered", import_id, file=row["file_name"], type=t, committed=True, step="side files")
        await archive(ctx, import_id, hist, t, dt.datetime.now().astimezone(), outcome, 0,
                      NOTE.format(_stamp(), "the file was archived; side files were rewritten"),
                      file_name=row["file_name"])
        return
    await ctx.audit.event("recovered", import_id, file=row["file_name"], type=t, committed=outcome is not None,
                          step="file missing")
    lost = outcome or ImportOutcome("failed", "FILE_VANISHED", row.get("sha256") or "")
    if outcome is None:
        lost.error_code = "FILE_VANISHED"
    await ctx.audit.finish_import(import_id, lost.status if outcome else "failed", lost.error_code,
                                  lost.sha256, lost.totals, 0)


def _now() -> str:
    from aimport.audit import now_iso

    return now_iso()


def _stamp() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
