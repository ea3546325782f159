"""The service's heartbeat on a shared store: its row in ``aimport_units`` every few seconds, and the line
``/healthz`` shows while one of its imports waits for a write turn (:mod:`aimport.store.units`)."""

from __future__ import annotations

import anyio

from aimport import __version__
from aimport.service.health import HealthView
from aimport.store.units import EVERY_S, Heartbeat

__all__ = ["run_heartbeat"]


async def run_heartbeat(health: HealthView, unit: str) -> None:
    """Beat until cancelled, then remove the service's row (PostgreSQL only: SQLite has one service)."""
    beat = Heartbeat(health.settings.store_address, unit, __version__, lambda: int(health.limiter.borrowed_tokens))
    if not beat.shared:
        return
    try:
        while True:
            await anyio.to_thread.run_sync(beat.beat)
            health.store_turn = beat.note
            await anyio.sleep(EVERY_S)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(beat.leave)
