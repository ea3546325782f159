"""Scheduling: per-type FIFO lanes under the one capacity limiter (``JobContext.limiter``).

Files of one type import one at a time in arrival order; OutboundCampaign
files run side by side; never more than ``max_concurrent`` imports in total.
Memory holds at most ``max_pending`` paths: the drop folder is the queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from aimport import faults, servicelog
from aimport.layout import IMPORT_TYPES, FolderProblem, display_name
from aimport.service import statedisk
from aimport.service.importjob import claim_and_import
from aimport.service.intake import Detector
from aimport.service.jobcontext import JobContext
from aimport.store.audit import now_iso

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

    def pending_paths(self) -> list[Path]:
        """Paths detected and not finished yet (for the pending-files metrics)."""
        return self.detector.pending_paths()

    async def run(self, grace_s: float, *, poll: bool, poll_ms: int, rescan_s: float) -> None:
        """Run until ``stop`` is set, then drain running imports within ``grace_s``."""
        from aimport.service.intake import watch_events

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
                await self.stop.wait()
                intake.cancel_scope.cancel()
            for s in sends.values():
                s.close()
            servicelog.get().info(f"stopping: no new claims; waiting up to {grace_s:g}s for {len(self.ctx.in_flight)} running import(s)")
            with anyio.move_on_after(grace_s):
                await self.lanes_done.wait()
            if not self.lanes_done.is_set():
                servicelog.get().warning("grace period over: cancelling running imports (they roll back and are recovered at start)")
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
                    async with self.ctx.limiter:
                        if self.stop.is_set():
                            continue
                        problems = self.ctx.layout.type_problems(import_type)  # checked right before each use
                        if problems:
                            await self._folder_trouble(problems)  # the file stays in its drop folder
                            continue
                        await claim_and_import(self.ctx, path, import_type, detected_at)
                except Exception:  # noqa: BLE001 - one file must never stop its lane
                    servicelog.get().exception("import of %s failed unexpectedly", path.name, extra={"file": path.name})
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
                await statedisk.event(self.ctx.state_disk, self.ctx.audit, "detected", None, file=path.name, type=t)
                self.ctx.observer.file_detected(t)
                faults.point("after_detect")
                sends[t].send_nowait((path, now_iso()))

    async def _rescan_loop(self, rescan_s: float) -> None:
        """Start-up scan, then a full rescan every ``rescan_s`` and a folder check every 2 s."""
        next_scan = 0.0
        while True:
            survey = await anyio.to_thread.run_sync(self.detector.layout.survey)
            if survey.created:
                servicelog.get().warning(f"re-created {len(survey.created)} missing folder(s)")
                await statedisk.event(self.ctx.state_disk, self.ctx.audit, "folders_recreated", None,
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
        servicelog.get().warning(f"ignored {name}: {reason}", extra={"file": name, "type": t})
        await statedisk.event(self.ctx.state_disk, self.ctx.audit, "ignored", None, file=name, type=t, reason=reason)

    async def _folder_trouble(self, problems: list[FolderProblem], everything: bool = False) -> None:
        """Report each unusable folder once (audit ``folder_unusable`` + an ERROR line) until it is usable again."""
        for p in problems:
            if self.unusable.get(p.folder) == p.problem:
                continue
            self.unusable[p.folder] = p.problem
            servicelog.get().error(f"cannot use the folder {p.folder}: it {p.problem}; {FOLDER_ADVICE}")
            await statedisk.event(self.ctx.state_disk, self.ctx.audit, "folder_unusable", None, folder=str(p.folder),
                                  problem=p.problem)
        if everything:  # a full survey: folders not named any more are usable again
            for folder in set(self.unusable) - {p.folder for p in problems}:
                del self.unusable[folder]
                servicelog.get().info(f"the folder {folder} is usable again")
                await statedisk.event(self.ctx.state_disk, self.ctx.audit, "folder_usable", None, folder=str(folder))
