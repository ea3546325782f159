"""The service's health and readiness, as /healthz and /readyz answer them, and the event loop's heartbeat.

The checks only: the HTTP endpoint that serves them (``--http HOST:PORT``) is aimport.web.server.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio

from aimport.layout import IMPORT_TYPES
from aimport.service.officehours.heldlist import HeldFile
from aimport.service.statedisk import StateDisk
from aimport.service.storeprobe import StoreProbe
from aimport.settings import Settings
from aimport.store.audit import Audit

logger = logging.getLogger(__name__)

__all__ = ["HealthView", "IntakeView", "LoopHealth", "MetricsPage", "healthz", "heartbeat", "readyz"]


@dataclass
class LoopHealth:
    """The event loop's heartbeat: written by the service's heartbeat task, read by /healthz and /metrics."""

    lag_s: float = 0.0  # lateness of the last beat
    last_beat: float = 0.0  # anyio clock of the last beat (0: none yet)
    max_lag_s: float = 0.0  # largest lateness since start

    def beat(self, now: float, lag_s: float) -> None:
        self.lag_s, self.last_beat = lag_s, now
        self.max_lag_s = max(self.max_lag_s, lag_s)


async def heartbeat(loop: LoopHealth, lag_warn_ms: int) -> None:
    """Measures event-loop lag for /healthz: a beat every 250 ms that should arrive on time (a late one is logged)."""
    while True:
        before = anyio.current_time()
        await anyio.sleep(0.25)
        now = anyio.current_time()
        loop.beat(now, max(0.0, now - before - 0.25))
        if loop.lag_s * 1000 > lag_warn_ms:
            logger.warning(f"the event loop was held up for {loop.lag_s * 1000:.0f} ms (health and new "
                                     "claims wait meanwhile)")


class IntakeView(Protocol):
    """What the checks read of detection (aimport.service.lanes.Scheduler has it)."""

    @property
    def last_scan(self) -> float: ...  # anyio clock of the last full folder scan (0: none yet)

    def pending_paths(self) -> list[Path]: ...  # detected and not finished yet (held files left out)

    def held_files(self) -> list[HeldFile]: ...  # held for the end of office hours (aimport.service.officehours.holds)


@dataclass
class HealthView:
    """What /healthz, /readyz and /metrics read of the running service."""

    settings: Settings
    limiter: anyio.CapacityLimiter  # the one limit on imports at once
    state_disk: StateDisk | None = None  # audit writes waiting for space
    audit: Audit | None = None
    loop: LoopHealth = field(default_factory=LoopHealth)
    intake: IntakeView | None = None  # set once automatic import runs (after recovery)
    store: StoreProbe | None = None  # the system store's connection check (round trip)
    starting: str = ""  # what start-up is waiting for (the system store ...); "" once the service runs
    store_turn: str = ""  # "waiting for the write turn of T N s (held by ...)" (aimport.service.unitbeat); "": none


class MetricsPage(Protocol):
    """The /metrics page (aimport.service.metrics.Metrics)."""

    def refresh(self, view: HealthView) -> None: ...

    def render(self) -> bytes: ...


def healthz(view: HealthView) -> tuple[int, dict[str, Any]]:
    loop = view.loop
    age = anyio.current_time() - loop.last_beat if loop.last_beat else 0.0
    ok = age < 2.0 and loop.lag_s < 1.0
    body: dict[str, Any] = {"status": "ok" if ok else "stalled", "loop_lag_s": round(loop.lag_s, 4),
                            "heartbeat_age_s": round(age, 3)}
    if view.store_turn:  # an import of this unit waits for another unit's write turn (it is deferred after a while)
        body["details"] = view.store_turn
    return (200 if ok else 503), body


def readyz(view: HealthView, now: float) -> tuple[int, dict[str, Any]]:
    s = view.settings
    checks: dict[str, bool] = {"started": not view.starting} if view.starting else {}
    layout = s.layout
    if s.enabled:
        checks["folders"] = not any(layout.type_problems(t) for t in IMPORT_TYPES)  # real folders, no links
        last_scan = view.intake.last_scan if view.intake is not None else 0.0
        checks["recent_scan"] = bool(last_scan and now - last_scan < 2 * s.rescan_s + 5)
    checks["export_folder"] = layout.folder_problem(layout.export_dir) is None
    disk = view.state_disk.problem if view.state_disk is not None else ""
    checks["state_disk"] = not disk  # audit writes are getting through (false while they wait for space)
    checks["state_writable"] = os.access(s.state_dir, os.W_OK)
    files = [s.audit_db] + ([s.store_address] if isinstance(s.store_address, Path) else [])
    checks["stores"] = all(os.access(p, os.W_OK) for p in files if p.exists())
    store = view.store.check() if view.store is not None else None
    if store is not None:
        checks["system_store"] = store.ok  # one round trip (SQLite file or PostgreSQL server) answered
    if view.audit is not None:
        checks["audit_trail"] = view.audit.healthy()  # False while a deleted or replaced audit database is not yet recreated
    ok = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
    if view.starting:
        body["starting"] = view.starting
    if disk:
        body["state_disk"] = disk
    if store is not None and store.problem:
        body["system_store"] = store.problem
    return (200 if ok else 503), body
