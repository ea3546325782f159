"""Scheduling: per-type FIFO lanes under the one capacity limiter (``JobContext.limiter``).

Files of one type import one at a time in arrival order; OutboundCampaign
files run side by side; never more than ``max_concurrent`` imports in total.
Memory holds at most ``max_pending`` paths: the drop folder is the queue. A large file that arrives in
office hours is held in its drop folder until they end (``holds``: aimport.service.officehours.holds).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from aimport import faults
from aimport.layout import IMPORT_TYPES, FolderProblem, display_name
from aimport.service.detector import Detector
from aimport.service.importjob import claim_and_import
from aimport.service.jobcontext import JobContext
from aimport.service.notify import events
from aimport.service.officehours.heldlist import RELEASE_CHECK_S, HeldFile
from aimport.service.officehours.holds import GONE, HoldQueue, Release
from aimport.service.slot import Slot
from aimport.store.audit import now_iso

logger = logging.getLogger(__name__)

PARALLEL_TYPES = {"OutboundCampaign"}
PARALLEL_WORKERS = 16
FOLDER_CHECK_S = 2.0  # deleted folders are re-created (and unusable ones re-checked) within this time
FOLDER_ADVICE = ("files of that type wait in their drop folder; replace it with a real folder (remove the link "
                 "or file: aimport re-creates a missing folder); re-checked every 2 s")


@dataclass
class Scheduler:
    """Detection feeding per-type lanes; every import holds a slot of ``ctx.limiter`` (the one limit)."""

    ctx: JobContext
    detector: Detector
    stop: anyio.Event = field(default_factory=anyio.Event)
    last_scan: float = 0.0  # anyio clock of the last full folder scan (0: none yet), read by /readyz
    lanes_done: anyio.Event = field(default_factory=anyio.Event)
    unusable: dict[Path, str] = field(default_factory=dict)  # folder -> problem, reported once until it is fixed
    holds: HoldQueue | None = None  # large files waiting for the end of office hours (None: nothing is held)

    def pending_paths(self) -> list[Path]:
        """Paths detected and not finished yet, held files left out (for the pending-files metrics)."""
        held = {f.path for f in self.held_files()}
        return [p for p in self.detector.pending_paths() if p not in held]

    def held_files(self) -> list[HeldFile]:
        """Files held in their drop folder for the end of office hours (for /metrics, status pages)."""
        return self.holds.held_files() if self.holds is not None else []

    def window_changed(self, window: str) -> None:
        """Office hours began or ended (aimport.service.officehours.limitswitch): held files are looked at now."""
        if self.holds is not None:
            self.holds.wake()

    async def run(self, grace_s: float, *, poll: bool, poll_ms: int, rescan_s: float) -> None:
        """Run until ``stop`` is set, then drain running imports within ``grace_s``."""
        from aimport.service.detector import watch_events

        sends: dict[str, MemoryObjectSendStream[tuple[Path, str]]] = {}
        recvs: dict[str, MemoryObjectReceiveStream[tuple[Path, str]]] = {}
        for t in IMPORT_TYPES:
            sends[t], recvs[t] = anyio.create_memory_object_stream[tuple[Path, str]](math.inf)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._lanes, recvs)
            async with anyio.create_task_group() as intake:
                intake.start_soon(partial(watch_events, self.detector, self._report, poll=poll, poll_ms=poll_ms, stop=self.stop))
                intake.start_soon(self._settle_loop, sends)
                intake.start_soon(self._rescan_loop, rescan_s)
                if self.holds is not None:
                    await self.holds.publish()  # the list starts empty: an earlier run's holds are not held now
                    if self.holds.active:
                        intake.start_soon(self._hold_loop, sends)
                await self.stop.wait()
                intake.cancel_scope.cancel()
            for s in sends.values():
                s.close()
            logger.info(f"stopping: no new claims; waiting up to {grace_s:g}s for {len(self.ctx.in_flight)} running import(s)")
            with anyio.move_on_after(grace_s):
                await self.lanes_done.wait()
            if not self.lanes_done.is_set():
                logger.warning("grace period over: cancelling running imports (they roll back and are recovered at start)")
            tg.cancel_scope.cancel()

    async def _lanes(self, recvs: dict[str, MemoryObjectReceiveStream[tuple[Path, str]]]) -> None:
        async with anyio.create_task_group() as tg:
            for t, recv in recvs.items():
                workers = PARALLEL_WORKERS if t in PARALLEL_TYPES else 1
                for _ in range(workers):
                    tg.start_soon(self._lane, t, recv.clone())
                recv.close()
        self.lanes_done.set()

    async def _lane(self, import_type: str, recv: MemoryObjectReceiveStream[tuple[Path, str]]) -> None:
        async with recv:
            async for path, detected_at in recv:
                try:
                    if self.stop.is_set():
                        continue
                    async with Slot(self.ctx.limiter) as slot:
                        if self.stop.is_set():
                            continue
                        problems = self.ctx.layout.type_problems(import_type)  # checked right before each use
                        if problems:
                            await self._folder_trouble(problems)  # the file stays in its drop folder
                            continue
                        await claim_and_import(self.ctx, path, import_type, detected_at, slot)
                except Exception:
                    logger.exception("import of %s failed unexpectedly", path.name, extra={"file": path.name})
                finally:
                    self.detector.release(path)

    async def _settle_loop(self, sends: dict[str, MemoryObjectSendStream[tuple[Path, str]]]) -> None:
        d = self.detector
        while True:
            await d.wait(d.next_check_in())
            if d.drained_after_overflow():
                for path, reason in d.scan(IMPORT_TYPES):
                    await self._report(path, reason)
            for path in d.ready():
                t = d.layout.type_of(path)
                if t is None or not d.take(path):
                    continue
                if self.holds is not None and await self._hold(path, t):
                    continue  # taken, but kept in its drop folder: rescans do not see it again
                await self._hand_over(sends[t], path, t)

    async def _hand_over(self, send: MemoryObjectSendStream[tuple[Path, str]], path: Path, t: str) -> None:
        await self.ctx.audit.event("detected", None, file=path.name, type=t)
        self.ctx.observer.file_detected(t)
        faults.point("after_detect")
        send.send_nowait((path, now_iso()))

    async def _hold(self, path: Path, t: str) -> bool:
        """Hold a large file that arrived in office hours (one ``held_for_window`` event); True when held.

        A file an operator released before this service held it (``aimport release`` while the service was
        stopped) is not held: it goes on with its ``hold_released`` event.
        """
        assert self.holds is not None
        early = await self.holds.requested(path, t)
        if early is not None:
            await self._released(early, "asked for before this service held it")
            return False
        held = await self.holds.consider(path, t)
        if held is None:
            return False
        self.holds.hold(held)
        name = display_name(path.name)
        starts = held.starts
        logger.info(f"holding {name} in its drop folder until office hours end "
                              f"({starts or 'never: aimport release starts it'}): {held.reason}",
                              extra={"file": name, "type": t})
        await self.ctx.audit.event("held_for_window", None, file=name, type=t,
                              window="office_hours", starts_at=starts, size_bytes=held.size_bytes,
                              estimated_rows=held.estimated_rows, reason=held.reason)
        await self.holds.publish()
        return True

    async def _hold_loop(self, sends: dict[str, MemoryObjectSendStream[tuple[Path, str]]]) -> None:
        """Hand held files over when office hours end or an operator releases one (checked every 2 s)."""
        assert self.holds is not None
        while True:
            await self.holds.wait(RELEASE_CHECK_S)
            released = await self.holds.due()
            for r in released:
                path, t, name = r.file.path, r.file.import_type, display_name(r.file.path.name)
                if r.reason == GONE:  # removed from the drop folder while held: nothing to import
                    self.detector.release(path)
                    logger.info(f"the held file {name} left its drop folder", extra={"file": name, "type": t})
                    continue
                await self._released(r)
                await self._hand_over(sends[t], path, t)
            if released:
                await self.holds.publish()
            minutes = self.ctx.settings.notify_held_after_min
            for f in self.holds.overdue(minutes):  # held too long: told to notify_url once (never waits)
                self.ctx.notifier.post(events.file_held(display_name(f.path.name), f.import_type, f.held_at, minutes,
                                                        f.reason, f.starts))

    async def _released(self, r: Release, note: str = "") -> None:
        """The log line and the ``hold_released`` event of a file that leaves the hold for its lane."""
        name, t = display_name(r.file.path.name), r.file.import_type
        by = f": asked by {r.requested_by}" if r.requested_by else ""
        logger.info(f"releasing the held file {name} ({r.reason.replace('_', ' ')}{by}"
                              + (f"; {note})" if note else ")"), extra={"file": name, "type": t})
        await self.ctx.audit.event("hold_released", None, file=name, type=t,
                              reason=r.reason, requested_by=r.requested_by)

    async def _rescan_loop(self, rescan_s: float) -> None:
        """Start-up scan, then a full rescan every ``rescan_s`` and a folder check every 2 s."""
        next_scan = 0.0
        while True:
            survey = await anyio.to_thread.run_sync(self.detector.layout.survey)
            if survey.created:
                logger.warning(f"re-created {len(survey.created)} missing folder(s)")
                await self.ctx.audit.event("folders_recreated", None,
                                      folders=[str(p) for p in survey.created])
            await self._folder_trouble(survey.problems, everything=True)
            now = anyio.current_time()
            if now >= next_scan:
                for path, reason in self.detector.scan(IMPORT_TYPES):
                    await self._report(path, reason)
                self.last_scan = now
                next_scan = now + rescan_s
                self.ctx.observer.scanned()
            await anyio.sleep(FOLDER_CHECK_S)

    async def _report(self, path: Path, reason: str) -> None:
        t = self.detector.layout.type_of(path)
        name = display_name(path.name)
        logger.warning(f"ignored {name}: {reason}", extra={"file": name, "type": t})
        await self.ctx.audit.event("ignored", None, file=name, type=t, reason=reason)

    async def _folder_trouble(self, problems: list[FolderProblem], everything: bool = False) -> None:
        """Report each unusable folder once (audit ``folder_unusable`` + an ERROR line) until it is usable again."""
        for p in problems:
            if self.unusable.get(p.folder) == p.problem:
                continue
            self.unusable[p.folder] = p.problem
            logger.error(f"cannot use the folder {p.folder}: it {p.problem}; {FOLDER_ADVICE}")
            await self.ctx.audit.event("folder_unusable", None, folder=str(p.folder),
                                  problem=p.problem)
        if everything:  # a full survey: folders not named any more are usable again
            for folder in set(self.unusable) - {p.folder for p in problems}:
                del self.unusable[folder]
                logger.info(f"the folder {folder} is usable again")
                await self.ctx.audit.event("folder_usable", None, folder=str(folder))
