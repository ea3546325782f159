"""The concurrency limit of the moment: ``office_max_concurrent`` in office hours, ``max_concurrent`` outside.

:meth:`LimitSwitch.run` is one task of the service: at each boundary of the office hours it sets the one
limiter (``JobContext.limiter``), updates the ``aimport_concurrency_limit`` metric and writes a
``concurrency_limit_changed`` audit event, then sleeps on its clock until the next boundary. A SIGHUP
reload changes the two limits (:meth:`LimitSwitch.reload`) and applies the one of the window in force.
Running imports are never interrupted: a lower limit applies to the next claim.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from aimport.service.jobcontext import JobContext
from aimport.service.officehours.schedule import Clock, OfficeHours
from aimport.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["OFFICE", "OUTSIDE", "LimitSwitch", "Limits", "log_office_hours"]

OFFICE = "office_hours"
OUTSIDE = "outside_office_hours"
SHORTEST_SLEEP = dt.timedelta(seconds=1)  # a boundary the clock has not passed yet (daylight saving) is looked at again


@dataclass(frozen=True)
class Limits:
    """The two limits on imports at once."""

    outside: int  # max_concurrent
    office: int  # office_max_concurrent


def when(at: dt.datetime | None) -> str | None:
    """A boundary for people and the audit trail: ISO-8601 to the minute with the zone's offset."""
    return at.isoformat(timespec="minutes") if at is not None else None


@dataclass
class LimitSwitch:
    """Sets ``ctx.limiter`` to the limit of the window in force (without office hours: always ``outside``)."""

    ctx: JobContext
    schedule: OfficeHours
    clock: Clock
    limits: Limits
    window: str = ""  # the window in force; "" until run() first looked at the clock
    listeners: list[Callable[[str], None]] = field(default_factory=list)  # told the new window after each switch

    def window_at(self, now: dt.datetime) -> str:
        return OFFICE if self.schedule.is_office(now) else OUTSIDE

    def limit_of(self, window: str) -> int:
        return self.limits.office if window == OFFICE else self.limits.outside

    def current_window(self) -> str:
        return self.window or self.window_at(self.clock.now())

    def current_limit(self) -> int:
        return self.limit_of(self.current_window())

    async def run(self) -> None:
        """Switch at every boundary of the office hours, until cancelled (the service's task)."""
        while True:
            now = self.clock.now()
            await self.switch(now)
            boundary = self.schedule.next_boundary(now)
            if boundary is None:  # office hours all week (or never): nothing will change
                await anyio.sleep_forever()
                return
            await self.clock.sleep_until(max(boundary, now + SHORTEST_SLEEP))

    async def switch(self, now: dt.datetime) -> None:
        """Apply the window of ``now`` if it is not the one in force."""
        window = self.window_at(now)
        if window == self.window:
            return
        first = not self.window
        previous = int(self.ctx.limiter.total_tokens)
        limit = self.limit_of(window)
        self.window = window
        self.ctx.limiter.total_tokens = limit  # the next claim waits for a slot under this limit
        self.ctx.observer.limit_changed(limit)
        until = when(self.schedule.next_boundary(now))
        label = "office hours" if window == OFFICE else "outside office hours"
        logger.info(f"{label}" + (f" until {until}" if until else "")
                              + f": at most {limit} import(s) at once" + ("" if first else f" (was {previous})"))
        await self.ctx.audit.event("concurrency_limit_changed", None, window=window,
                              limit=limit, previous=None if first else previous, until=until)
        for tell in self.listeners:
            tell(window)

    def reload(self, limits: Limits) -> int:
        """New limits (SIGHUP); returns the limit now in force, which the limiter has from now on."""
        self.limits = limits
        limit = self.current_limit()
        self.ctx.limiter.total_tokens = limit
        self.ctx.observer.limit_changed(limit)
        return limit


def log_office_hours(settings: Settings, schedule: OfficeHours) -> None:
    """The service log's line at start: the window, the two limits and which files wait for its end."""
    large = " or ".join(x for x in (f"{settings.large_file_rows} rows" if settings.large_file_rows else "",
                                    f"{settings.large_file_mb} MB" if settings.large_file_mb else "") if x)
    logger.info(f"office hours {schedule.spec} ({schedule.zone_name}): at most "
                          f"{settings.office_max_concurrent} import(s) at once in them, {settings.max_concurrent} "
                          "outside; " + (f"files above {large} wait for their end" if large else
                                         "no file waits for their end (large_file_rows and large_file_mb are 0)"))
