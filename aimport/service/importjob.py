"""One import job in the service: claim, import in a worker process, archive, record, give the slot back."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import anyio
from anyio import to_process

from aimport import faults, filelock
from aimport.errors import ErrorCode, state_code
from aimport.importing import filestate, scratch, worklog
from aimport.importing.filestate import FileIdentity
from aimport.importing.outcome import ImportOutcome, ImportRequest, Status, Totals
from aimport.importing.worker import ProgressFile, path_for, run_reporting
from aimport.layout import display_name
from aimport.service import retries, statedisk
from aimport.service.archive import Archived, archive, record, report
from aimport.service.backoff import Backoff
from aimport.service.claims import Claim
from aimport.service.jobcontext import JobContext
from aimport.service.notify import events
from aimport.service.slot import Slot
from aimport.store import system as store
from aimport.store.audit import AuditEvent
from aimport.store.connect import open_db
from aimport.store.db import StoreError

logger = logging.getLogger(__name__)

__all__ = ["WORKER_DIED", "claim_and_import", "import_claimed", "is_transient", "ledger_outcome",
           "make_request", "run_claimed", "run_until_done"]

WORKER_DIED = "the import worker process died (out of memory or killed)"


def is_transient(outcome: ImportOutcome) -> bool:
    """Applied nothing and says nothing about the file (a transient ErrorCode whose cause is the environment)."""
    return outcome.transient


async def claim_and_import(ctx: JobContext, path: Path, import_type: str, detected_at: str,
                           slot: Slot | None = None) -> None:
    """Claim ``path`` by renaming it into InProcess/ and import it (``slot``: given back once it is finished).

    The file is locked before the rename, so from the moment it appears in InProcess/ its
    lock tells another instance's start-up recovery that it is taken.
    """
    dest = ctx.layout.in_process_dir(import_type) / path.name
    if faults.delay("before_claim"):
        await anyio.sleep(faults.delay("before_claim"))
    if dest.exists():
        await ctx.audit.event("ignored", None, file=path.name, type=import_type,
                              reason="a file of the same name is still in InProcess; it will be taken after recovery")
        return
    fd, elsewhere = filelock.try_lock(path)
    if elsewhere:  # another instance is claiming it right now
        return
    claim = None
    try:
        ident = FileIdentity.of(os.fstat(fd) if fd is not None else path.stat())
        size = ident.size
        # the key is bound to the file before it enters InProcess/: recovery finds it from the file alone
        claim = await anyio.to_thread.run_sync(ctx.claims.claim, ident, import_type, path, dest)
    except FileNotFoundError:
        filelock.release(fd)
        await ctx.audit.event("ignored", None, file=path.name, type=import_type,
                              reason="the file was gone before it could be claimed (removed, or taken by another instance)")
        return
    except OSError as exc:
        filelock.release(fd)
        await ctx.audit.event("claim_failed", None, file=display_name(path.name), type=import_type, error=str(exc))
        logger.error(f"cannot claim {display_name(path.name)}: {exc.strerror or exc}; it stays in the "
                         f"{import_type} drop folder and is tried again at the next rescan",
                         extra={"type": import_type, "file": display_name(path.name)})
        return
    assert claim is not None
    faults.point("after_claim")
    try:
        # the file is in InProcess/: the audit row waits out a full state disk (as every audit write)
        retried = await anyio.to_thread.run_sync(retries.retry_of, ctx.settings.state_dir, ident)  # aimport retry
        import_id = await ctx.audit.start_import(import_type, path.name, size, detected_at, ctx.settings.logon_user,
                                                 retry_of=retried)
        if retried is not None:
            await anyio.to_thread.run_sync(retries.forget, ctx.settings.state_dir, ident)
        key = ctx.import_key(import_id)
        await statedisk.patiently(  # the key goes with the claimed file: wait out a full state disk here too
            ctx.state_disk, f"record the import key of {display_name(path.name)}",
            lambda: anyio.to_thread.run_sync(ctx.claims.record, ident, import_type, path.name, key))
        claimed = AuditEvent("claimed", import_id, dict(file=path.name, type=import_type, in_process=str(dest), key=key))
    except BaseException:
        filelock.release(fd)
        raise
    # (its ctime is not compared with the claimed file's: the rename into InProcess/ sets it)
    await import_claimed(ctx, Claim(dest, import_type, import_id, key, replace(ident, ctime_ns=0), fd, claimed=claimed),
                         slot)


async def import_claimed(ctx: JobContext, claim: Claim, slot: Slot | None = None) -> None:
    """Import a claimed file, then archive it, record its outcome and give its ``slot`` back, in that order.

    The file's claim record is removed once its ``.result`` is written (before the outcome is recorded);
    the ``finished`` event, the log line and the file's lock follow after the slot is given back.
    """
    started = dt.datetime.now().astimezone()
    t0 = time.monotonic()
    ctx.in_flight.add(claim.path)
    ctx.observer.import_started(claim.import_type)
    counted = True

    def uncount() -> None:  # the outcome is recorded: the import no longer counts against the limit
        nonlocal counted
        if counted:
            counted = False
            ctx.in_flight.discard(claim.path)
            ctx.observer.import_finished(claim.import_type)
            if slot is not None:
                slot.release()

    inode = filestate.identity(claim.path)
    try:
        with filelock.held(claim.path, claim.lock):
            outcome = await run_claimed(ctx, claim)
            done = await archive(ctx, claim.import_id, claim.path, claim.import_type, started, outcome,
                                 int((time.monotonic() - t0) * 1000))
            await anyio.to_thread.run_sync(ctx.claims.forget, inode)  # the claim is done
            await record(ctx, done)
            uncount()
            await report(ctx, done)
            _notify(ctx, done)
    finally:
        uncount()


def _notify(ctx: JobContext, done: Archived) -> None:
    """A failed or partial import is told to notify_url (queued: never waits for the network)."""
    o, t = done.outcome, done.outcome.totals or Totals()
    note = events.import_ended(done.import_id, done.import_type, done.file, o.status,
                               o.error_code.value if o.error_code else None, t.rejected, t.rows, o.error,
                               done.history.with_name(done.history.name + ".log") if done.history else None)
    if note is not None:
        ctx.notifier.post(note)


async def run_claimed(ctx: JobContext, claim: Claim) -> ImportOutcome:
    """Import a claimed file (fresh claim, recovery or ``aimport import``) and return its outcome.

    The file is checked against the identity it was claimed with and hashed first: a file that changed
    since waits in InProcess/ until it is stable.
    """
    dest, import_id, import_type = claim.path, claim.import_id, claim.import_type
    started_event = AuditEvent("started", import_id, dict(file=dest.name, type=import_type, recovered=claim.recovered))
    await ctx.audit.events(*filter(None, (claim.claimed, started_event)))
    logger.info(f"importing {dest.name}" + (" (recovered)" if claim.recovered else ""),
                          extra={"import_id": import_id, "type": import_type, "file": dest.name})
    req = make_request(ctx, import_id, dest, import_type, claim.key)
    # checked and hashed in one thread hop (the worker then never loads OpenSSL: aimport.importing.filestate)
    state = await anyio.to_thread.run_sync(partial(filestate.check, dest, claim.identity, digest=True))
    if state.reason and state.now is not None:
        req = await _wait_unchanged(ctx, import_id, req, state.reason)
    else:
        req.expect, req.sha256, req.check_writers = state.now, state.sha256, True
    return await run_until_done(ctx, import_id, req)


async def _wait_unchanged(ctx: JobContext, import_id: int, req: ImportRequest, change: str) -> ImportRequest:
    """The claimed file changed (or is still open for writing): it waits in InProcess/ until it is stable."""
    dest, settle_s = req.path, ctx.settings.settle_ms / 1000
    text = (f"{dest.name} changed after it was claimed ({change}); nothing of it was applied; it waits in InProcess/ "
            f"and is imported from scratch once it has not changed for {settle_s:g}s")
    await ctx.audit.event("file_changed", import_id, file=dest.name, type=req.import_type, change=change)
    logger.warning(text, extra={"import_id": import_id, "type": req.import_type, "file": dest.name})
    worklog.note(req.log_path, "WARNING", text)
    ident = await filestate.wait_stable(dest, settle_s)
    req.expect = ident
    req.sha256 = await anyio.to_thread.run_sync(filestate.sha256_matching, dest, ident) if ident is not None else ""
    req.check_writers = ident is not None and not await anyio.to_thread.run_sync(filestate.open_for_writing, dest)
    return req


async def run_until_done(ctx: JobContext, import_id: int, req: ImportRequest) -> ImportOutcome:
    """Run the import; a failure the store's ledger contradicts takes the ledger's outcome (it committed).

    Trouble with the state disk or the store (a transient code) applied nothing: the file stays in
    InProcess/ and the import is run again with backoff until it gets through. A file that
    changed while it was read (FILE_CHANGED) was rolled back: it is imported again from scratch
    once it is stable.
    """
    dest, import_type = req.path, req.import_type
    backoff = Backoff()
    while True:
        outcome = await _run_worker(ctx, req, import_id)
        if outcome.status != "failed":
            return outcome
        committed = await anyio.to_thread.run_sync(_ledger_or_none, ctx, req.import_key)
        if committed is not None:
            return committed
        if outcome.error_code == "FILE_CHANGED":
            req = await _wait_unchanged(ctx, import_id, req, outcome.error)
            continue
        if not is_transient(outcome) or not ctx.retry_transient:
            if outcome.error == WORKER_DIED:  # (a staging helper that died: the worker's log already says so)
                worklog.note(req.log_path, "ERROR", f"{WORKER_DIED}; nothing was applied")
            return outcome
        await ctx.audit.event("import_deferred", import_id, file=dest.name, type=import_type,
                              error_code=outcome.error_code, error=outcome.error, retry_in_s=backoff.delay)
        logger.error(f"cannot import {dest.name} now ({outcome.error_code}: {outcome.error or 'see its .log'});"
                         f" it stays in InProcess/, retrying in {backoff.delay:g}s",
                         extra={"import_id": import_id, "type": import_type, "file": dest.name})
        worklog.note(req.log_path, "WARNING", f"nothing was applied ({outcome.error_code}); retrying in {backoff.delay:g}s")
        await backoff.wait()


async def _run_worker(ctx: JobContext, req: ImportRequest, import_id: int) -> ImportOutcome:
    reporter = ProgressFile(path_for(ctx.settings.work_dir, import_id))  # rows so far: the jobs view
    returned = False
    try:
        if ctx.runner is not None:
            returned = True  # in this process (aimport import): the import cleans up after itself
            return await ctx.runner(req)
        # the caller holds a slot of ctx.limiter (the one limit): the worker run adds none of its own (anyio's
        # default process limiter would cap imports at the CPU count)
        outcome = await to_process.run_sync(run_reporting, req, reporter, cancellable=True,
                                            limiter=anyio.CapacityLimiter(math.inf))
        returned = True  # the worker removed its progress file
        if outcome.store_retries:
            ctx.observer.store_retried(outcome.store_retries)
        if outcome.phases is not None and (outcome.phases.turn_wait_ms or outcome.phases.turn_hold_ms):
            ctx.observer.store_turn(req.import_type, outcome.phases.turn_wait_ms / 1000,
                                    outcome.phases.turn_hold_ms / 1000 if outcome.status != "failed" else None)
        return outcome
    except anyio.BrokenWorkerProcess:
        return ImportOutcome(Status.FAILED, ErrorCode.WORKER_CRASHED, "", log_path=req.log_path, error=WORKER_DIED)
    except OSError as exc:  # the worker could not write its log or scratch files: the state disk, never the file
        return ImportOutcome(Status.FAILED, state_code(exc), "", log_path=req.log_path, error=str(exc))
    finally:
        if not returned:  # the worker died (or was cancelled) before it could clean up after itself
            reporter.remove()
            scratch.remove(scratch.files_of(ctx.settings.work_dir, req.import_key))


def make_request(ctx: JobContext, import_id: int, dest: Path, import_type: str, key: str | None = None) -> ImportRequest:
    s = ctx.settings
    key = key or ctx.import_key(import_id)
    return ImportRequest(
        path=dest, import_type=import_type, import_key=key, store_address=s.store_address, work_dir=s.work_dir,
        actor=s.logon_user or "", max_unzipped_bytes=s.max_unzipped_mb << 20,
        campaign_template=s.campaign_template, log_path=worklog.work_path(s.work_dir, key),
        date_order=s.date_order, text_fallback_encoding=s.text_fallback_encoding,
        phone_region=s.phone_region, hidden_rows=s.hidden_rows,
        # a second process for a large sheet only while a core is free: with as many imports running as
        # there are cores, a helper would only take turns with them
        stage_helper=s.stage_helper and ctx.limiter.borrowed_tokens < (os.cpu_count() or 1),
    )


def ledger_outcome(ctx: JobContext, key: str) -> ImportOutcome | None:
    """The committed outcome of the import ledgered under ``key`` (a plain read: never waits for writers)."""
    with open_db(ctx.settings.store_address) as db:
        row = store.ledger_get(db, key) if db.table_exists("import_ledger") else None
    if row is None:
        return None
    return ImportOutcome.from_ledger(row, worklog.work_path(ctx.settings.work_dir, key))


def _ledger_or_none(ctx: JobContext, key: str) -> ImportOutcome | None:
    try:
        return ledger_outcome(ctx, key)
    except StoreError:
        return None  # the store cannot be read: the worker could not have committed either
