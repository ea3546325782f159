"""One slot of the one limit (``JobContext.limiter``), held by one import and given back once it is finished.

An import counts against ``max_concurrent`` from its claim until its outcome is recorded (the audit
trail's ``started_at`` .. ``finished_at``). The bookkeeping after that (the ``finished`` event, the log
line, removing the work log and the file lock) runs after the slot is given back, so the next file's
claim does not wait for it.
"""

from __future__ import annotations

from types import TracebackType

import anyio

__all__ = ["Slot"]


class Slot:
    """``async with Slot(limiter) as slot``: acquired on entry; :meth:`release` gives it back early (once)."""

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self._limiter = limiter
        self._held = False

    async def __aenter__(self) -> Slot:
        await self._limiter.acquire()
        self._held = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limiter.release()
