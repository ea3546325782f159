"""A slot of the one limit is given back once, as soon as the import's outcome is recorded."""

from __future__ import annotations

import anyio
import pytest

from aimport.service.slot import Slot


@pytest.mark.anyio
async def test_a_slot_given_back_early_lets_the_next_import_start_and_is_not_given_back_twice() -> None:
    limiter = anyio.CapacityLimiter(1)
    order: list[str] = []
    released = anyio.Event()
    bookkeeping_done = anyio.Event()

    async def first() -> None:
        async with Slot(limiter) as slot:
            order.append("first claims")
            slot.release()  # outcome recorded
            released.set()
            await bookkeeping_done.wait()  # the finished event, the log line ... still running
            order.append("first done")

    async def second() -> None:
        await released.wait()
        async with Slot(limiter):
            order.append("second claims")
            bookkeeping_done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        tg.start_soon(second)
    assert order == ["first claims", "second claims", "first done"]
    assert limiter.borrowed_tokens == 0  # released once each, nothing left over


@pytest.mark.anyio
async def test_a_slot_is_given_back_when_the_import_fails() -> None:
    limiter = anyio.CapacityLimiter(1)
    with pytest.raises(RuntimeError):
        async with Slot(limiter):
            raise RuntimeError("boom")
    assert limiter.borrowed_tokens == 0
