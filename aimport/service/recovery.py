"""Start-up recovery: finish what a crash interrupted, never applying a row twice.

Whether a claimed file committed is decided from the file itself: its claim record
(aimport.service.claims, found by its inode) holds the key its transaction is ledgered under in the
system store, so a lost or replaced audit trail cannot make a committed file be applied
again. A file in InProcess/ whose transaction committed is only archived again; one that did
not commit is imported again from scratch. A file in History/ without its ``.result`` only
gets its side files rewritten (or, if nothing was committed, is imported again where it
lies). A file another live process holds (its lock) is left to its owner, and so is its
open audit row.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio

from aimport import filelock
from aimport.errors import ErrorCode
from aimport.importing import worklog
from aimport.importing.filestate import identity
from aimport.importing.outcome import ImportOutcome, Status
from aimport.layout import IMPORT_TYPES
from aimport.service.archive import archive_and_record
from aimport.service.claims import Claim
from aimport.service.filters import ImportFileFilter
from aimport.service.importjob import import_claimed, ledger_outcome
from aimport.service.jobcontext import JobContext
from aimport.service.slot import Slot

RECOVERED = "recovered after a restart: "  # starts each line recovery adds to a work log
SIDE = (".log", ".result", ".err", ".tmp")


async def recover(ctx: JobContext) -> int:
    """Recover every interrupted import; returns how many were recovered."""
    by_file: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in await ctx.audit.open_imports():  # oldest first
        by_file[(r["import_type"], r["file_name"])].append(r)
    todo: dict[str, list[Claim]] = defaultdict(list)  # per type, in arrival order
    count = 0
    flt = ImportFileFilter()
    for t in IMPORT_TYPES:
        folder = ctx.layout.in_process_dir(t)
        if ctx.layout.type_problems(t):  # a link or a file in a folder's place: never read (the folder check reports it)
            continue
        for path in sorted(folder.iterdir(), key=_mtime):
            if not flt.check(path).accept:
                continue
            rows = by_file.get((t, path.name))
            fd, elsewhere = filelock.try_lock(path)
            if elsewhere:  # another live process is importing it right now: its audit row is its own
                if rows:
                    rows.pop()
                continue
            row = rows.pop() if rows else None  # the newest open import of that name owns the file
            count += 1
            again = await _recover_in_process(ctx, t, path, fd, row)
            if again is not None:
                todo[t].append(again)
    for rows in by_file.values():
        for leftover in rows:
            count += 1
            again = await _reconcile_open_row(ctx, leftover)
            if again is not None:
                todo[leftover["import_type"]].append(again)
    for t, item in await _history_without_result(ctx, by_file):
        count += 1
        todo[t].append(item)
    async with anyio.create_task_group() as tg:
        for t, items in todo.items():
            tg.start_soon(_reimport, ctx, t, items)
    return count


def _key(ctx: JobContext, t: str, path: Path, row: dict[str, Any] | None, file_name: str | None) -> str | None:
    """The ledger key of the claimed file at ``path``: its claim record, else (claimed by an older
    version) the audit row's key; None when the file was never claimed with a key."""
    claim = ctx.claims.lookup(path, t, file_name)
    if claim is not None:
        return claim.key or None  # no key yet: killed before the import was started, nothing committed
    return ctx.import_key(row["id"]) if row is not None else None


async def _recover_in_process(ctx: JobContext, t: str, path: Path, fd: int | None,
                              row: dict[str, Any] | None) -> Claim | None:
    key = _key(ctx, t, path, row, path.name)
    if row is None:  # killed between the claim (rename) and the audit row, or the audit trail was lost
        import_id = await ctx.audit.start_import(t, path.name, _size(path), _now(), ctx.settings.logon_user)
    else:
        import_id = row["id"]
    if key is None:  # never started (or put there without a claim): nothing committed; the key is bound now
        key = ctx.import_key(import_id)
        ident = identity(path)
        if ident is not None:
            ctx.claims.record(ident, t, path.name, key)
    outcome = ledger_outcome(ctx, key)
    name = row["file_name"] if row else path.name
    hist = ctx.layout.history_dir(t) / row["history_name"] if row and row.get("history_name") else _other_link(ctx, t, path)
    if hist is not None and _same_file(hist, path):  # killed between the History link and the unlink
        (path if outcome is not None else hist).unlink()
        path = hist if outcome is not None else path
    await ctx.audit.event("recovered", import_id, file=name, type=t, committed=outcome is not None,
                          audit_row=row is not None)
    if outcome is None:
        _note(ctx, key, "nothing of the interrupted import had been applied; importing it again")
        return Claim(path, t, import_id, key, None, fd, recovered=True)
    try:
        await archive_and_record(ctx, import_id, path, t, outcome,
                                 worklog.line("INFO", RECOVERED + "the import had committed; only archiving was redone"),
                                 name)
        ctx.claims.forget(identity(path))
    finally:
        filelock.release(fd)
    return None


async def _reimport(ctx: JobContext, t: str, items: list[Claim]) -> None:
    """Import again, one file of a type at a time in arrival order (as the lanes do)."""
    for claim in items:
        async with Slot(ctx.limiter) as slot:
            await import_claimed(ctx, claim, slot)


async def _reconcile_open_row(ctx: JobContext, row: dict[str, Any]) -> Claim | None:
    """An open audit row whose file is no longer in InProcess/; returns what to import again, if anything."""
    import_id, t = row["id"], row["import_type"]
    hist = ctx.layout.history_dir(t) / row["history_name"] if row.get("history_name") else None
    if hist is not None and hist.exists():
        fd, elsewhere = filelock.try_lock(hist)
        if elsewhere or not await ctx.audit.is_open(import_id):  # its live owner is still archiving it
            filelock.release(fd)
            return None
        key = _key(ctx, t, hist, row, None) or ctx.import_key(import_id)
        return await _side_files(ctx, t, hist, fd, key, import_id, row["file_name"])
    if not await ctx.audit.is_open(import_id):
        return None  # finished meanwhile by its live owner
    key = await ctx.audit.claim_key(import_id) or ctx.import_key(import_id)
    outcome = ledger_outcome(ctx, key)
    await ctx.audit.event("recovered", import_id, file=row["file_name"], type=t, committed=outcome is not None,
                          step="file missing")
    lost = outcome or ImportOutcome(Status.FAILED, ErrorCode.FILE_VANISHED, row.get("sha256") or "")
    await ctx.audit.finish_import(import_id, lost.status, lost.error_code, lost.sha256, lost.totals, 0)
    return None


async def _side_files(ctx: JobContext, t: str, hist: Path, fd: int | None, key: str, import_id: int | None,
                      file_name: str | None) -> Claim | None:
    """A file in History/ without its .result: rewrite the side files, or import it again where it lies."""
    outcome = ledger_outcome(ctx, key)
    if import_id is None:  # the audit trail lost its row
        import_id = await ctx.audit.start_import(t, file_name or hist.name, _size(hist), _now(), ctx.settings.logon_user)
        await ctx.audit.set_history(import_id, hist.name)
    await ctx.audit.event("recovered", import_id, file=file_name or hist.name, type=t, committed=outcome is not None,
                          step="side files")
    result = hist.with_name(hist.name + ".result")
    if outcome is None and result.exists():  # a failure the ledger does not know, archived: audit only
        done = dict(line.split(": ", 1) for line in result.read_text(encoding="utf-8").splitlines() if ": " in line)
        await ctx.audit.finish_import(import_id, done.get("status", "failed"), done.get("error_code") or None,
                                      done.get("sha256") or None, None, 0)
        filelock.release(fd)
        return None
    if outcome is None:  # moved to History/ but nothing committed (a failure the ledger does not know)
        _note(ctx, key, "the file was in History/ without its .result and nothing had been applied; importing it again")
        return Claim(hist, t, import_id, key, None, fd, recovered=True)
    try:
        await archive_and_record(ctx, import_id, hist, t, outcome,
                                 worklog.line("INFO", RECOVERED + "the file was archived; side files were rewritten"),
                                 file_name)
        ctx.claims.forget(identity(hist))
    finally:
        filelock.release(fd)
    return None


async def _history_without_result(ctx: JobContext, by_file: dict[tuple[str, str], list[dict[str, Any]]]
                                  ) -> list[tuple[str, Claim]]:
    """Files in History/ whose .result is missing and whose audit row is lost: their claim record knows them."""
    known = {(r["import_type"], r["history_name"]) for rows in by_file.values() for r in rows if r.get("history_name")}
    out: list[tuple[str, Claim]] = []
    for t in IMPORT_TYPES:
        folder = ctx.layout.history_dir(t)
        if ctx.layout.type_problems(t) or not folder.is_dir():
            continue
        names = set(os.listdir(folder))
        for name in sorted(names):
            if name.startswith(".") or name.endswith(SIDE) or f"{name}.result" in names or (t, name) in known:
                continue
            hist = folder / name
            claim = ctx.claims.lookup(hist, t)
            if claim is None or not claim.key:
                continue  # not ours to finish (no claim record: archived before, or put there by hand)
            fd, elsewhere = filelock.try_lock(hist)
            if elsewhere:
                continue
            again = await _side_files(ctx, t, hist, fd, claim.key, None, claim.file_name)
            if again is not None:
                out.append((t, again))
    return out


def _other_link(ctx: JobContext, t: str, path: Path) -> Path | None:
    """The History/ name of a claimed file that also has one (killed between the History link and the unlink)."""
    try:
        st = path.stat()
        if st.st_nlink < 2:
            return None
        with os.scandir(ctx.layout.history_dir(t)) as it:
            for entry in it:
                if entry.inode() == st.st_ino and entry.is_file(follow_symlinks=False):
                    return Path(entry.path)
    except OSError:
        pass
    return None


def _note(ctx: JobContext, key: str, text: str) -> None:
    worklog.note(worklog.work_path(ctx.settings.work_dir, key), "INFO", RECOVERED + text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _size(p: Path) -> int | None:
    try:
        return p.stat().st_size
    except OSError:
        return None


def _mtime(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def _now() -> str:
    from aimport.store.audit import now_iso

    return now_iso()
