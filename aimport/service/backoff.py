"""Backoff for waiting out trouble (a full disk, a locked store): 1 s, doubling, at most 60 s.

Every retry loop of the service (importing again, archiving, audit writes on a troubled
state disk) waits with one :class:`Backoff`, so the delays and the "retrying in Ns" texts
are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

__all__ = ["FIRST_DELAY_S", "MAX_DELAY_S", "Backoff"]

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0


@dataclass
class Backoff:
    """The delays of one retry loop: ``delay`` is the next wait; :meth:`wait` sleeps it and doubles it."""

    first: float = FIRST_DELAY_S
    most: float = MAX_DELAY_S
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.first

    def step(self) -> float:
        """The delay to wait now; the next one is doubled (up to ``most``)."""
        now = self.delay
        self.delay = min(self.delay * 2, self.most)
        return now

    async def wait(self) -> None:
        """Sleep the current delay, then double it."""
        await anyio.sleep(self.step())
