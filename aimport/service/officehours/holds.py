"""Large files held in their drop folder during office hours, until they end or an operator releases one.

A settled file that arrives in office hours and is above ``large_file_rows`` (estimated without reading
it: aimport.readers.rowestimate) or ``large_file_mb`` is not handed to its lane: the scheduler keeps it
here, unclaimed in its drop folder, writes one ``held_for_window`` audit event, and hands it over (the
normal path: ``detected``, claim, import) when office hours end, or when ``aimport release FILE`` has
left a request in ``STATE/releases/`` (read at the scheduler's next folder check; a request left while the
service was stopped, or while the file was still settling, is met when the file settles:
:meth:`HoldQueue.requested`). Either way the file leaves with a ``hold_released`` event. OutboundCampaign
files are never held: a campaign starts when it is dropped.

:meth:`HoldQueue.held_files` is the view inside the service (/metrics, the HTTP pages); other processes
read ``STATE/held.json`` and write release requests (aimport.service.officehours.heldlist).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from aimport.readers.rowestimate import estimate_rows
from aimport.service.officehours.heldlist import (
    HELD_LIST,
    HeldFile,
    HeldList,
    read_request,
    read_requests,
    release_request_path,
    write_held,
)
from aimport.service.officehours.schedule import Clock, OfficeHours
from aimport.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ENDED", "GONE", "NEVER_HELD", "OPERATOR", "HoldQueue", "LargeFiles", "Release"]

NEVER_HELD = frozenset({"OutboundCampaign"})  # a campaign is started when it is dropped
ENDED, OPERATOR, GONE = "office_hours_ended", "operator", "gone"  # why a held file leaves the queue
MB = 1 << 20


@dataclass(frozen=True)
class LargeFiles:
    """The large-file thresholds (0: that one is off)."""

    rows: int = 0  # large_file_rows
    mb: int = 0  # large_file_mb

    @property
    def enabled(self) -> bool:
        return self.rows > 0 or self.mb > 0

    def why(self, size_bytes: int, rows: int | None) -> str:
        """The threshold a file of this size and estimated rows is above ("": it is not large)."""
        if self.rows and rows is not None and rows > self.rows:
            return f"about {rows} rows (large_file_rows {self.rows})"
        if self.mb and size_bytes > self.mb * MB:
            return f"{size_bytes / MB:.1f} MB (large_file_mb {self.mb})"
        return ""


@dataclass(frozen=True)
class Release:
    """A held file leaving the queue, and why (ENDED, OPERATOR: to its lane now; GONE: removed by someone)."""

    file: HeldFile
    reason: str
    requested_by: str | None = None


@dataclass
class HoldQueue:
    """The held files of one service, kept on its event loop."""

    schedule: OfficeHours
    clock: Clock
    large: LargeFiles
    state_dir: Path
    time_zone: str = ""  # as set (for held.json)
    _held: dict[Path, HeldFile] = field(default_factory=dict, init=False)
    _view: tuple[HeldFile, ...] = field(default=(), init=False)  # what held_files() returns (read from threads too)
    _wake: anyio.Event = field(default_factory=anyio.Event, init=False)
    _spent: set[str] = field(default_factory=set, init=False)  # requests acted on that could not be removed
    _writing: anyio.Lock = field(default_factory=anyio.Lock, init=False)  # one held.json write at a time
    _told: set[Path] = field(default_factory=set, init=False)  # held files already returned by overdue()

    @classmethod
    def for_settings(cls, settings: Settings, schedule: OfficeHours, clock: Clock) -> HoldQueue:
        return cls(schedule, clock, LargeFiles(settings.large_file_rows, settings.large_file_mb), settings.state_dir,
                   settings.time_zone)

    @property
    def active(self) -> bool:
        return self.schedule.enabled and self.large.enabled

    def held_files(self) -> list[HeldFile]:
        """The files held now, in the order they were held (read-only records; safe from any thread)."""
        return list(self._view)

    def _changed(self) -> None:
        self._view = tuple(sorted(self._held.values(), key=lambda f: (f.held_at, f.path.name)))

    def is_held(self, path: Path) -> bool:
        return path in self._held

    async def consider(self, path: Path, import_type: str) -> HeldFile | None:
        """The hold for a settled ``path`` when it is to wait now (not yet recorded: :meth:`hold`), else None."""
        if not self.active or import_type in NEVER_HELD:
            return None
        now = self.clock.now()
        if not self.schedule.is_office(now):
            return None
        measured = await anyio.to_thread.run_sync(_measure, path)
        if measured is None:
            return None
        size, rows = measured
        why = self.large.why(size, rows)
        if not why:
            return None
        return HeldFile(path, import_type, size, rows, now, self.schedule.end_of_office(now), why)

    async def requested(self, path: Path, import_type: str) -> Release | None:
        """The release an operator asked for ``path`` before this service held it (``aimport release`` while the
        service was stopped, or while the file was settling); the request is removed. None: there is none."""
        if not self.active or import_type in NEVER_HELD:
            return None
        request = release_request_path(self.state_dir, path)
        try:
            _, by = await anyio.to_thread.run_sync(read_request, request)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            by = ""  # unreadable: still an operator's wish for this file (the name is the file's path)
        await anyio.to_thread.run_sync(self._remove_request, request)
        measured = await anyio.to_thread.run_sync(_measure, path)
        size, rows = measured if measured is not None else (0, None)
        now = self.clock.now()
        return Release(HeldFile(path, import_type, size, rows, now, self.schedule.end_of_office(now), ""), OPERATOR, by)

    def hold(self, held: HeldFile) -> None:
        self._held[held.path] = held
        self._changed()

    def overdue(self, minutes: int) -> list[HeldFile]:
        """Files held for ``minutes`` or more that no earlier call returned (each once per hold; 0: never)."""
        self._told &= set(self._held)  # a file released and held again is told again
        if minutes <= 0:
            return []
        now = self.clock.now()
        out = [f for f in self.held_files()
               if f.path not in self._told and now - f.held_at >= dt.timedelta(minutes=minutes)]
        self._told.update(f.path for f in out)
        return out

    def wake(self) -> None:
        """Look again now (the window changed)."""
        self._wake.set()

    async def wait(self, timeout: float) -> None:
        with anyio.move_on_after(timeout):
            await self._wake.wait()
        self._wake = anyio.Event()

    async def due(self) -> list[Release]:
        """Held files that leave the queue now; they are no longer held when this returns."""
        held = self.held_files()
        present, requests = await anyio.to_thread.run_sync(self._look, [f.path for f in held])
        office = self.schedule.is_office(self.clock.now())
        out = []
        for f in held:
            if f.path not in present:
                out.append(Release(f, GONE))
            elif not office:
                out.append(Release(f, ENDED))
            elif str(f.path) in requests:
                out.append(Release(f, OPERATOR, requests[str(f.path)]))
        for r in out:
            del self._held[r.file.path]
        self._changed()
        left = {r.file.path for r in out}
        # a request is done once its file left the queue; one for a file that is gone is void; one for a file
        # not held yet (still settling, or the service was stopped) waits for requested()
        done = [release_request_path(self.state_dir, Path(p)) for p in requests
                if Path(p) in left or (Path(p) not in present and Path(p) not in self._held)]
        for request in done:
            await anyio.to_thread.run_sync(self._remove_request, request)
        return out

    def _look(self, paths: list[Path]) -> tuple[set[Path], dict[str, str]]:
        """(held paths still in their folder or named by a request, and present; requested path -> by whom)."""
        requests, unreadable = read_requests(self.state_dir, skip=self._spent)
        for bad in unreadable:
            logger.warning(f"ignored the unreadable release request {bad}")
            self._remove_request(bad)
        named = set(paths) | {Path(p) for p in requests}
        return {p for p in named if p.is_file()}, requests

    def _remove_request(self, request: Path) -> None:
        try:
            request.unlink(missing_ok=True)
        except OSError as exc:  # acted on once; not again while the service runs
            self._spent.add(request.name)
            logger.warning(f"cannot remove the release request {request}: {exc.strerror or exc}")

    async def publish(self) -> None:
        """Write STATE/held.json (when holding is on, or to empty a list an earlier run left)."""
        path = self.state_dir / HELD_LIST
        if not self.active and not path.exists():
            return
        listed = HeldList(self.held_files(), self.schedule.spec, self.time_zone)
        async with self._writing:  # the latest list is written last
            try:
                await anyio.to_thread.run_sync(write_held, self.state_dir, listed)
            except OSError as exc:  # aimport status shows an older list meanwhile; the holds themselves are unaffected
                logger.warning(f"cannot write {path}: {exc.strerror or exc}")


def _measure(path: Path) -> tuple[int, int | None] | None:
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return size, estimate_rows(path)
