"""Detection: watchfiles events, a start-up scan and periodic rescans feed a settle check.

A file is ready once its size and mtime have not changed for the settle
time; a file whose mtime is already older than the settle time when first
seen (it arrived by rename or was there before the service started) is
ready at once. Ready files go to the scheduler in arrival order.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from watchfiles import Change, awatch

from aimport.layout import IMPORT_TYPES, Layout
from aimport.service.filters import ImportFileFilter

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    size: int
    mtime_ns: int
    stable_since: float
    first_seen: float


@dataclass
class Detector:
    """Tracks candidate files until they settle. Holds at most ``max_pending`` paths.

    Its state (candidates, paths handed to the scheduler, overflow, wake-up) is its own: the
    scheduler uses the methods below.
    """

    layout: Layout
    settle_s: float
    max_pending: int = 1000
    filter: ImportFileFilter = field(default_factory=ImportFileFilter)
    _candidates: dict[Path, Candidate] = field(default_factory=dict, init=False)
    _reported: set[Path] = field(default_factory=set, init=False)
    _busy: set[Path] = field(default_factory=set, init=False)  # handed to the scheduler, import not finished
    _overflowed: bool = field(default=False, init=False)  # a path was refused because max_pending was reached
    _wake: anyio.Event = field(default_factory=anyio.Event, init=False)

    async def wait(self, timeout: float) -> None:
        """Until a new candidate arrives or ``timeout`` (seconds; ``math.inf``: no limit) has passed."""
        with anyio.move_on_after(None if math.isinf(timeout) else timeout):
            await self._wake.wait()
        self._wake = anyio.Event()

    def take(self, path: Path) -> bool:
        """Hand a settled path to the scheduler; False if it is already handed over."""
        if path in self._busy:
            return False
        self._busy.add(path)
        return True

    def release(self, path: Path) -> None:
        """The scheduler is done with ``path`` (imported, or left in its folder)."""
        self._busy.discard(path)

    def drained_after_overflow(self) -> bool:
        """True once, when paths were refused for lack of room and there is room again (time to rescan)."""
        if self._overflowed and self.has_room():
            self._overflowed = False
            return True
        return False

    def pending_paths(self) -> list[Path]:
        """Paths detected and not yet finished: settling, or handed to the scheduler."""
        return list(self._candidates) + list(self._busy)

    def observe(self, path: Path, now: float | None = None, folder_checked: bool = False) -> str | None:
        """Note a path; returns a reason when it is to be reported as ignored (once)."""
        if self.layout.type_of(path) is None:
            return None
        if not folder_checked and self.layout.folder_problem(path.parent):
            return None  # a drop folder that is a link or not a folder: never read (the folder check reports it)
        verdict = self.filter.check(path)
        if not verdict.accept:
            self._candidates.pop(path, None)
            if verdict.report and path not in self._reported:
                if len(self._reported) >= self.max_pending:
                    self._reported.clear()  # bounded memory: at worst an entry is reported again
                self._reported.add(path)
                return verdict.report
            return None
        if path in self._candidates or path in self._busy:
            return None
        if len(self._candidates) + len(self._busy) >= self.max_pending:
            self._overflowed = True  # the folder keeps it; rescanned as soon as there is room
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        now = time.monotonic() if now is None else now
        age = time.time() - st.st_mtime
        since = now - self.settle_s if age >= self.settle_s else now
        self._candidates[path] = Candidate(st.st_size, st.st_mtime_ns, since, now)
        self._wake.set()
        return None

    def ready(self, now: float | None = None) -> list[Path]:
        """Paths that have settled, oldest first; they leave the candidate set."""
        now = time.monotonic() if now is None else now
        done: list[tuple[int, str, Path]] = []
        for path, c in list(self._candidates.items()):
            try:
                st = os.stat(path)
            except OSError:
                del self._candidates[path]
                continue
            if st.st_size != c.size or st.st_mtime_ns != c.mtime_ns:
                c.size, c.mtime_ns, c.stable_since = st.st_size, st.st_mtime_ns, now
                continue
            if now - c.stable_since >= self.settle_s:
                done.append((c.mtime_ns, path.name, path))
                del self._candidates[path]
        return [p for _, _, p in sorted(done)]

    def has_room(self) -> bool:
        return len(self._candidates) + len(self._busy) < self.max_pending // 2

    def next_check_in(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        if self._overflowed:
            return 0.2  # come back to rescan once the queue has drained
        if not self._candidates:
            return math.inf
        due = min(c.stable_since + self.settle_s for c in self._candidates.values()) - now
        return max(0.02, min(due, self.settle_s / 4 or 0.05))

    def scan(self, import_types: tuple[str, ...]) -> list[tuple[Path, str]]:
        """Observe every entry of every drop folder; returns (path, reason) to report."""
        reports: list[tuple[Path, str]] = []
        for t in import_types:
            folder = self.layout.type_dir(t)
            if self.layout.folder_problem(folder):
                continue  # reported by the folder check; never read through a link or a file
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for e in entries:
                if len(self._candidates) + len(self._busy) >= self.max_pending:
                    self._overflowed = True  # full: the rest waits for the rescan when there is room again
                    return reports
                reason = self.observe(Path(e.path), folder_checked=True)
                if reason:
                    reports.append((Path(e.path), reason))
        return reports


Report = Callable[[Path, str], Awaitable[None]]


async def watch_events(detector: Detector, report: Report, *, poll: bool, poll_ms: int, stop: anyio.Event) -> None:
    """Feed watchfiles events for the drop folders to the detector until ``stop``."""
    automatic = detector.layout.automatic

    def interesting(change: Change, path: str) -> bool:
        return change != Change.deleted and detector.layout.type_of(Path(path)) is not None

    while not stop.is_set():
        try:
            # step: how often the watch thread wakes (it checks ``stop`` each time); 25 ms keeps the
            # drop-to-claim latency low and idle CPU well under 1 % (10 ms measured 0.6 % for this thread alone)
            async for changes in awatch(
                automatic, watch_filter=interesting, stop_event=stop, force_polling=poll,
                poll_delay_ms=poll_ms, debounce=50, step=25, recursive=True, rust_timeout=1000,
                yield_on_timeout=False,
            ):
                for _change, path in changes:
                    reason = detector.observe(Path(path))
                    if reason:
                        await report(Path(path), reason)
        except Exception as exc:  # noqa: BLE001 - (in an exception group) the root vanished, a name watchfiles
            # cannot decode (not UTF-8): that batch of events is lost, so scan the folders instead of waiting for
            # the periodic rescan; the watch starts again
            logger.debug(f"file watch restarted after {type(exc).__name__}: {exc}")
            await anyio.sleep(0.5)
            for found, reason in detector.scan(IMPORT_TYPES):
                await report(found, reason)
