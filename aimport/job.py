"""One import job in the service: claim, import in a worker process, archive, audit."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import anyio
from anyio import to_process

from aimport import faults, logs, store
from aimport.archive import free_history_name, local_iso, move_to_history, write_side_files
from aimport.audit import Audit
from aimport.layout import Layout
from aimport.settings import Settings
from aimport.worker import ImportOutcome, ImportRequest, run_import


@dataclass
class JobContext:
    """What every job needs; built once by the service."""

    settings: Settings
    layout: Layout
    audit: Audit
    audit_uuid: str
    process_limiter: anyio.CapacityLimiter
    observer: Any = None  # metrics hooks (aimport.metrics.Metrics) or None
    in_flight: set[Path] = field(default_factory=set)
    runner: Callable[[ImportRequest], Awaitable[ImportOutcome]] | None = None  # default: worker process

    def import_key(self, import_id: int) -> str:
        return f"{self.audit_uuid}-{import_id}"

    def notify(self, name: str, *args: Any) -> None:
        fn = getattr(self.observer, name, None)
        if fn is not None:
            fn(*args)


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold an advisory lock on a claimed file: another instance's recovery leaves it alone."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass
    try:
        yield
    finally:
        os.close(fd)


def is_held_elsewhere(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


async def claim_and_import(ctx: JobContext, path: Path, import_type: str, detected_at: str) -> None:
    """Claim ``path`` by renaming it into InProcess/ and import it."""
    dest = ctx.layout.in_process_dir(import_type) / path.name
    if faults.delay("before_claim"):
        await anyio.sleep(faults.delay("before_claim"))
    if dest.exists():
        await ctx.audit.event("ignored", None, file=path.name, type=import_type,
                              reason="a file of the same name is still in InProcess; it will be taken after recovery")
        return
    try:
        size = path.stat().st_size
        os.rename(path, dest)
    except FileNotFoundError:
        await ctx.audit.event("ignored", None, file=path.name, type=import_type,
                              reason="the file was gone before it could be claimed (removed, or taken by another instance)")
        return
    except OSError as exc:
        await ctx.audit.event("claim_failed", None, file=path.name, type=import_type, error=str(exc))
        return
    faults.point("after_claim")
    import_id = await ctx.audit.start_import(import_type, path.name, size, detected_at, ctx.settings.logon_user)
    await ctx.audit.event("claimed", import_id, file=path.name, type=import_type, in_process=str(dest))
    await run_claimed(ctx, import_id, dest, import_type)


async def run_claimed(ctx: JobContext, import_id: int, dest: Path, import_type: str, recovered: bool = False) -> None:
    """Import a file already in InProcess/ (fresh claim or recovery) and archive it."""
    started = dt.datetime.now().astimezone()
    t0 = time.monotonic()
    ctx.in_flight.add(dest)
    ctx.notify("import_started", import_type)
    try:
        with held(dest):
            await ctx.audit.event("started", import_id, file=dest.name, type=import_type, recovered=recovered)
            logs.get().info(f"importing {dest.name}" + (" (recovered)" if recovered else ""),
                            extra={"import_id": import_id, "type": import_type, "file": dest.name})
            req = make_request(ctx, import_id, dest, import_type)
            try:
                if ctx.runner is not None:
                    outcome = await ctx.runner(req)
                else:
                    outcome = await to_process.run_sync(run_import, req, cancellable=True, limiter=ctx.process_limiter)
            except anyio.BrokenWorkerProcess:
                outcome = ImportOutcome("failed", "WORKER_CRASHED", "", log_path=req.log_path)
                with open(req.log_path or os.devnull, "a", encoding="utf-8") as fh:
                    fh.write("the import worker process died (out of memory or killed); nothing was applied\n")
            await archive(ctx, import_id, dest, import_type, started, outcome, int((time.monotonic() - t0) * 1000))
    finally:
        ctx.in_flight.discard(dest)
        ctx.notify("import_finished", import_type)


def make_request(ctx: JobContext, import_id: int, dest: Path, import_type: str) -> ImportRequest:
    s = ctx.settings
    key = ctx.import_key(import_id)
    return ImportRequest(
        path=dest, import_type=import_type, import_key=key, system_db=s.system_db, work_dir=s.work_dir,
        actor=s.logon_user or "", max_unzipped_bytes=s.max_unzipped_mb << 20,
        campaign_template=s.campaign_template, log_path=s.work_dir / f"{key}.log",
    )


async def archive(ctx: JobContext, import_id: int, src: Path, import_type: str, started: dt.datetime,
                  outcome: ImportOutcome, duration_ms: int, extra_log: str = "", file_name: str | None = None) -> None:
    """Move to History/ and write side files; on disk trouble retry with backoff (file stays recoverable)."""
    history = ctx.layout.history_dir(import_type)
    delay = 1.0
    while True:
        try:
            faults.oserror("archive")
            if src.parent == history:  # recovery: already moved, only side files missing
                dest = src
            else:
                name = free_history_name(history, src.name, started)
                await ctx.audit.set_history(import_id, name)
                dest = move_to_history(src, history, name, started)
                if dest.name != name:
                    await ctx.audit.set_history(import_id, dest.name)
            log_path = outcome.log_path
            log_text = log_path.read_text(encoding="utf-8") if log_path and log_path.exists() else ""
            log_text += extra_log
            fields = {
                "status": outcome.status, "type": import_type, "file": file_name or src.name, **outcome.totals,
                "started": local_iso(started), "finished": local_iso(dt.datetime.now()),
                "duration_ms": duration_ms, "sha256": outcome.sha256, "error_code": outcome.error_code,
                "import_id": import_id, "actor": ctx.settings.logon_user,
            }
            for k in ("rows", "created", "updated", "deleted", "unchanged", "rejected"):
                fields.setdefault(k, 0)
            fields.update(outcome.extra.get("result_fields", {}))
            write_side_files(dest, log_text, fields, outcome.sheets)
            break
        except OSError as exc:
            await ctx.audit.event("archive_failed", import_id, file=src.name, error=str(exc), retry_in_s=delay)
            logs.get().error(f"cannot archive {src.name}: {exc}; it stays in InProcess/, retrying in {delay:g}s",
                             extra={"import_id": import_id, "type": import_type, "file": src.name})
            ctx.notify("archive_failed", import_type)
            await anyio.sleep(delay)
            delay = min(delay * 2, 60.0)
    faults.point("after_archive")
    await ctx.audit.finish_import(import_id, outcome.status, outcome.error_code, outcome.sha256,
                                  outcome.totals, duration_ms)
    kind = "failed" if outcome.status == "failed" else "finished"
    await ctx.audit.event(kind, import_id, file=file_name or src.name, history=dest.name, status=outcome.status,
                          error_code=outcome.error_code, **outcome.totals)
    ctx.notify("import_done", import_type, outcome.status, outcome.totals, duration_ms / 1000)
    t = outcome.totals
    logs.get().info(
        f"{outcome.status}: {file_name or src.name} -> History/{dest.name} (rows {t.get('rows', 0)}, created "
        f"{t.get('created', 0)}, updated {t.get('updated', 0)}, deleted {t.get('deleted', 0)}, rejected {t.get('rejected', 0)})",
        extra={"import_id": import_id, "type": import_type, "file": file_name or src.name, "status": outcome.status,
               "error_code": outcome.error_code})
    if outcome.log_path:
        outcome.log_path.unlink(missing_ok=True)


def ledger_outcome(ctx: JobContext, import_id: int) -> ImportOutcome | None:
    """The committed outcome of an import, if its transaction committed."""
    conn = store.open_store(ctx.settings.system_db)
    try:
        row = store.ledger_get(conn, ctx.import_key(import_id))
    finally:
        conn.close()
    if row is None:
        return None
    key = ctx.import_key(import_id)
    return ImportOutcome(row["status"], row["error_code"], row["sha256"], row["stats"].get("totals", {}),
                         row["stats"].get("sheets", []), ctx.settings.work_dir / f"{key}.log",
                         {"result_fields": row["stats"].get("result_fields", {})})
