"""Office hours: the weekly schedule of ``office_hours`` in ``time_zone``, and the clock it is read against.

A spec is ranges separated by commas, each ``DAYS HH:MM-HH:MM``: ``Mon-Fri 07:30-18:00, Sat 09:00-13:00``.
DAYS is one day (``Mon`` or ``Monday``) or a span (``Mon-Fri``; ``Fri-Mon`` wraps past Sunday). Times are
wall-clock times in the zone; ``24:00`` is the end of a day, and an end before the start runs past
midnight (``Fri 22:00-02:00`` ends on Saturday). The schedule is kept by the minute: a week is 10,080
minutes, each inside office hours or not, so overlapping and touching ranges simply merge.

Nothing here reads the time by itself: the caller passes ``now`` from a :class:`Clock` (the service's
:class:`SystemClock`; tests use a clock they set).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import anyio

from aimport.settings import SettingsError

__all__ = ["Clock", "OfficeHours", "SystemClock", "zone_of"]

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
RANGE = re.compile(r"(?P<days>[A-Za-z]+(?:\s*-\s*[A-Za-z]+)?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})")
EXAMPLE = "e.g. 'Mon-Fri 07:30-18:00' or 'Mon-Fri 07:30-18:00, Sat 09:00-13:00'"


class Clock(Protocol):
    """Where the service reads the time (injected: tests pass a clock they set)."""

    def now(self) -> dt.datetime: ...  # timezone-aware

    async def sleep_until(self, when: dt.datetime) -> None: ...  # may return early: callers look at now() again


@dataclass(frozen=True)
class SystemClock:
    """The real clock. Sleeps at most ``longest_sleep_s`` at a time, so a wall-clock jump (NTP, a suspended
    host, a changed zone) is noticed within that time."""

    longest_sleep_s: float = 60.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        await anyio.sleep(min(max((when - self.now()).total_seconds(), 0.0), self.longest_sleep_s))


def zone_of(name: str) -> dt.tzinfo | None:
    """The zone named ``name`` (an IANA name such as ``Europe/Helsinki``, or ``UTC``); None: the host's zone."""
    name = name.strip()
    if not name:
        return None
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise SettingsError(f"invalid value for time_zone: {name!r} (an IANA zone name such as Europe/Helsinki, "
                            "UTC, or empty for the host's zone; the tz database comes from the system or the "
                            "tzdata package)") from None


@dataclass(frozen=True)
class OfficeHours:
    """The parsed schedule. Empty (no ranges): never office hours."""

    spec: str
    zone: dt.tzinfo | None  # None: the host's zone (its daylight-saving rules included)
    minutes: frozenset[int]  # minutes of the week (0 = Monday 00:00) inside office hours
    changes: tuple[int, ...]  # minutes of the week where office hours begin or end

    @classmethod
    def parse(cls, spec: str, time_zone: str = "") -> OfficeHours:
        """Parse ``spec`` (see the module); raises :class:`SettingsError` saying what is wrong."""
        zone = zone_of(time_zone)
        minutes: set[int] = set()
        if spec.strip():
            for part in spec.split(","):
                minutes |= _range_minutes(spec, part.strip())
        changes = tuple(m for m in range(WEEK_MINUTES) if (m in minutes) != ((m - 1) % WEEK_MINUTES in minutes))
        return cls(spec.strip(), zone, frozenset(minutes), changes)

    @property
    def enabled(self) -> bool:
        return bool(self.minutes)

    @property
    def zone_name(self) -> str:
        if self.zone is None:
            return "the host's time zone"
        return str(getattr(self.zone, "key", None) or self.zone)

    def is_office(self, now: dt.datetime) -> bool:
        return _minute_of_week(self._local(now)) in self.minutes

    def next_boundary(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment after ``now`` where office hours begin or end; None when that never happens."""
        if not self.changes:
            return None
        local = self._local(now)
        m0 = _minute_of_week(local)
        ahead = min((c - m0 - 1) % WEEK_MINUTES + 1 for c in self.changes)  # whole minutes, at least one
        wall = local.replace(second=0, microsecond=0, tzinfo=None) + dt.timedelta(minutes=ahead)
        return self._from_wall(wall)

    def end_of_office(self, now: dt.datetime) -> dt.datetime | None:
        """When the office hours around ``now`` end: ``now`` itself outside office hours, None when they never
        end (office hours all week)."""
        if not self.is_office(now):
            return now
        return self.next_boundary(now)

    def _local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self.zone)  # astimezone(None): the host's zone at that moment

    def _from_wall(self, wall: dt.datetime) -> dt.datetime:
        """The moment a naive wall-clock time in the zone names (the host's zone: through mktime)."""
        return wall.replace(tzinfo=self.zone) if self.zone is not None else wall.astimezone()


def _minute_of_week(local: dt.datetime) -> int:
    return local.weekday() * DAY_MINUTES + local.hour * 60 + local.minute


def _range_minutes(spec: str, part: str) -> set[int]:
    def bad(problem: str) -> SettingsError:
        return SettingsError(f"invalid value for office_hours: {spec!r}: {problem} ({EXAMPLE})")

    if not part:
        raise bad("an empty range between commas")
    m = RANGE.fullmatch(part)
    if m is None:
        raise bad(f"{part!r} is not DAYS HH:MM-HH:MM")
    first, _, last = (d.strip() for d in m["days"].partition("-"))
    day_from = _day(first, bad)
    day_to = _day(last, bad) if last else day_from
    start, end = _clock_minutes(m["start"], bad), _clock_minutes(m["end"], bad)
    if start == DAY_MINUTES:
        raise bad(f"{part!r} starts at 24:00 (use 00:00)")
    if start == end:
        raise bad(f"{part!r} is empty (it starts when it ends)")
    length = end - start if end > start else end + DAY_MINUTES - start  # past midnight when the end is earlier
    days = [(day_from + i) % 7 for i in range((day_to - day_from) % 7 + 1)]
    return {(d * DAY_MINUTES + start + i) % WEEK_MINUTES for d in days for i in range(length)}


def _day(name: str, bad: Callable[[str], SettingsError]) -> int:
    low = name.lower()
    for i, full in enumerate(DAY_NAMES):
        if low in (full, full[:3]):
            return i
    raise bad(f"unknown day {name!r} (use Mon Tue Wed Thu Fri Sat Sun)")


def _clock_minutes(text: str, bad: Callable[[str], SettingsError]) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise bad(f"{text} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes
