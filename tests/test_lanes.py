"""The scheduler in-process: lanes, the concurrency limit, SIGHUP and the grace period, without timing.

The real Scheduler (intake, lanes, claim, archive, audit) runs on a temporary root inside the test's event
loop; only the worker process is replaced (``JobContext.runner``) by a fake that blocks on an event per
file until the test releases it. Every wait is on a condition (with a timeout that only fires when the
test fails); nothing is proven by sleeping.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from aimport.importing.outcome import ImportOutcome, Status
from aimport.importing.run import ImportRequest
from aimport.service.detector import Detector
from aimport.service.jobcontext import JobContext
from aimport.service.lanes import Scheduler
from aimport.settings import Settings
from aimport.store.audit import Audit

TIMEOUT_S = 20.0  # only reached when a test fails: every wait below ends on its condition


@dataclass
class FakeRunner:
    """Stands in for the worker process: each import runs until the test releases its file."""

    started: list[str] = field(default_factory=list)  # file names in the order their imports started
    running: dict[str, str] = field(default_factory=dict)  # file name -> import type
    finished: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    peak: int = 0  # most imports running at once
    peak_by_type: Counter[str] = field(default_factory=Counter)
    over_limit: list[str] = field(default_factory=list)  # "n running with limit m" whenever that happened
    limit: Callable[[], float] = lambda: float("inf")
    gates: dict[str, anyio.Event] = field(default_factory=dict)
    changed: anyio.Event = field(default_factory=anyio.Event)

    def gate(self, name: str) -> anyio.Event:
        return self.gates.setdefault(name, anyio.Event())

    def release(self, *names: str) -> None:
        for n in names:
            self.gate(n).set()

    def _changed(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    async def __call__(self, req: ImportRequest) -> ImportOutcome:
        name, import_type = req.path.name, req.import_type
        self.started.append(name)
        self.running[name] = import_type
        self.peak = max(self.peak, len(self.running))
        per_type = sum(1 for t in self.running.values() if t == import_type)
        self.peak_by_type[import_type] = max(self.peak_by_type[import_type], per_type)
        if len(self.running) > self.limit():
            self.over_limit.append(f"{len(self.running)} running with limit {self.limit()}")
        self._changed()
        try:
            await self.gate(name).wait()
        except anyio.get_cancelled_exc_class():
            self.cancelled.append(name)
            raise
        finally:
            del self.running[name]
            self._changed()
        self.finished.append(name)
        return ImportOutcome(Status.SUCCEEDED, None, "0" * 64, log_path=req.log_path)

    async def until(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait until ``predicate()`` holds; it is checked each time an import starts or ends."""
        with anyio.move_on_after(TIMEOUT_S):
            while not predicate():
                await self.changed.wait()
        assert predicate(), f"timed out waiting for {what}; running {sorted(self.running)}, started {self.started}"


@dataclass
class Harness:
    settings: Settings
    scheduler: Scheduler
    runner: FakeRunner
    limiter: anyio.CapacityLimiter

    def drop(self, import_type: str, names: Sequence[str]) -> None:
        """Files that arrived in this order (by mtime, which is how the detector orders what it finds)."""
        base = time.time() - 3600
        for i, name in enumerate(names):
            p = self.settings.layout.type_dir(import_type) / name
            p.write_text("Name\r\nx\r\n", encoding="utf-8")
            os.utime(p, (base + i, base + i))

    def history(self, import_type: str) -> list[str]:
        return sorted(p.name for p in self.settings.layout.history_dir(import_type).glob("*.result"))

    def left_in(self, import_type: str) -> list[str]:
        return sorted(p.name for p in self.settings.layout.type_dir(import_type).iterdir() if p.is_file())

    def in_process(self, import_type: str) -> list[str]:
        return sorted(p.name for p in self.settings.layout.in_process_dir(import_type).iterdir())


def settings_for(tmp_path: Path, max_concurrent: int, config: Path | None = None) -> Settings:
    s = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin", settle_ms=0,
                 max_concurrent=max_concurrent, config=config)
    s.state_dir.mkdir(parents=True, exist_ok=True)
    s.work_dir.mkdir(parents=True, exist_ok=True)
    s.layout.ensure()
    return s


@asynccontextmanager
async def scheduler(settings: Settings, grace_s: float = 60.0,
                    before: Callable[[Harness], None] | None = None) -> AsyncIterator[tuple[Harness, anyio.Event]]:
    """Run the real Scheduler with a FakeRunner; yields the harness and an event set once ``run`` returned.

    Leaving the block stops the scheduler (if the test did not) and releases every import.
    """
    runner = FakeRunner()
    async with Audit(settings.audit_db) as audit:
        limiter = anyio.CapacityLimiter(settings.max_concurrent)
        ctx = JobContext(settings, settings.layout, audit, "test-audit", limiter, runner=runner)
        detector = Detector(settings.layout, settings.settle_ms / 1000, settings.max_pending)
        sched = Scheduler(ctx, detector)
        runner.limit = lambda: limiter.total_tokens
        h = Harness(settings, sched, runner, limiter)
        if before is not None:
            before(h)
        returned = anyio.Event()

        async def run() -> None:
            await sched.run(grace_s, poll=True, poll_ms=20, rescan_s=3600)
            returned.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                yield h, returned
            finally:
                sched.stop.set()
                runner.release(*runner.running)
                with anyio.fail_after(TIMEOUT_S):
                    await returned.wait()


async def finish(h: Harness, *names: str) -> None:
    """Release ``names`` and wait until their imports ended."""
    h.runner.release(*names)
    await h.runner.until(lambda: all(n in h.runner.finished for n in names), f"{names} finished")


# -- ordering ------------------------------------------------------------------------------------------


async def test_one_file_of_a_type_at_a_time_in_arrival_order(tmp_path: Path) -> None:
    """Skills files import one after the other, oldest first (not by name); another type runs beside them."""
    s = settings_for(tmp_path, max_concurrent=4)
    order = ["c.txt", "a.txt", "b.txt"]  # arrival order differs from name order

    def files(h: Harness) -> None:
        h.drop("Skills", order)
        h.drop("Queues", ["q.txt"])

    async with scheduler(s, before=files) as (h, _):
        r = h.runner
        await r.until(lambda: set(r.running) == {"c.txt", "q.txt"}, "the oldest Skills file and the Queues file run")
        for i, name in enumerate(order):
            def started(name: str = name) -> bool:
                return name in r.running

            await r.until(started, f"{name} running")
            # the Queues file (released last) is still running: the Skills lane had room and took one file
            assert [n for n, t in r.running.items() if t == "Skills"] == [name]
            assert [n for n in r.started if n in order] == order[:i + 1]
            await finish(h, name)
        await finish(h, "q.txt")
    assert r.started.index("q.txt") < r.started.index("a.txt")  # Queues did not wait for the Skills lane
    assert r.peak_by_type["Skills"] == 1
    assert [n for n in r.started if n in order] == order
    assert len(h.history("Skills")) == 3 and len(h.history("Queues")) == 1


async def test_campaign_files_import_side_by_side(tmp_path: Path) -> None:
    s = settings_for(tmp_path, max_concurrent=4)
    names = ["c1.txt", "c2.txt", "c3.txt"]
    async with scheduler(s, before=lambda h: h.drop("OutboundCampaign", names)) as (h, _):
        r = h.runner
        await r.until(lambda: sorted(r.running) == names, "all three campaign files running at once")
        await finish(h, *names)
    assert r.peak_by_type["OutboundCampaign"] == 3
    assert len(h.history("OutboundCampaign")) == 3


# -- the limit -----------------------------------------------------------------------------------------


async def test_never_above_the_limit_and_the_limit_is_reached(tmp_path: Path) -> None:
    """Seven files in three lanes, limit 2: two run at any time until the queue is empty, never three."""
    s = settings_for(tmp_path, max_concurrent=2)
    files = {"Skills": ["s1.txt", "s2.txt"], "Queues": ["q1.txt", "q2.txt"],
             "OutboundCampaign": ["c1.txt", "c2.txt", "c3.txt"]}
    everything = [n for names in files.values() for n in names]

    def drop_all(h: Harness) -> None:
        for t, names in files.items():
            h.drop(t, names)

    async with scheduler(s, before=drop_all) as (h, _):
        r = h.runner
        while len(r.finished) < len(everything):
            want = min(2, len(everything) - len(r.finished))

            def enough(want: int = want) -> bool:
                return len(r.running) == want

            await r.until(enough, f"{want} running")
            await finish(h, next(iter(r.running)))  # one ends: the next file takes its place
    assert r.over_limit == []
    assert r.peak == 2
    assert sorted(r.started) == sorted(everything)


async def test_a_sighup_raises_and_lowers_the_limit_while_imports_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGHUP's reload (the real handler) changes the limit live: more run at once after raising it; after
    lowering it the running imports finish and no new one starts until fewer than the new limit run."""
    from aimport.service.app import Service, _reload
    from aimport.service.health import HealthView
    from aimport.service.metrics import Metrics

    monkeypatch.delenv("AIMPORT_MAX_CONCURRENT", raising=False)
    config = tmp_path / "aimport.toml"
    config.write_text("max_concurrent = 1\n", encoding="utf-8")
    s = settings_for(tmp_path, max_concurrent=1, config=config)
    names = [f"c{i}.txt" for i in range(1, 7)]
    async with scheduler(s, before=lambda h: h.drop("OutboundCampaign", names)) as (h, _):
        r = h.runner
        svc = Service(s, h.scheduler.ctx, HealthView(s, h.limiter), Metrics())
        await r.until(lambda: len(r.running) == 1, "one running (limit 1)")

        config.write_text("max_concurrent = 3\n", encoding="utf-8")
        await _reload(svc)
        await r.until(lambda: len(r.running) == 3, "three running after the limit went up to 3")

        config.write_text("max_concurrent = 1\n", encoding="utf-8")
        await _reload(svc)
        assert h.limiter.total_tokens == 1
        first_three = list(r.running)
        await finish(h, first_three[0])  # two still run: above the new limit, so nothing new starts
        await finish(h, first_three[1])  # one still runs: at the new limit, so nothing new starts
        assert sorted(r.running) == [first_three[2]] and len(r.started) == 3
        await finish(h, first_three[2])  # below the limit: exactly one more starts
        await r.until(lambda: len(r.started) == 4, "the fourth file started")
        assert len(r.running) == 1
        while len(r.finished) < len(names):
            await r.until(lambda: len(r.running) == 1, "one running")
            await finish(h, next(iter(r.running)))
    assert r.over_limit == []  # no import started while as many as the limit of that moment ran
    assert r.peak == 3


# -- shutdown --------------------------------------------------------------------------------------------


async def test_stop_lets_running_imports_finish_within_the_grace_period(tmp_path: Path) -> None:
    """After stop no new file is claimed; a running import that ends within the grace period is archived."""
    s = settings_for(tmp_path, max_concurrent=2)
    async with scheduler(s, grace_s=60.0, before=lambda h: h.drop("Skills", ["a.txt", "b.txt"])) as (h, returned):
        r = h.runner
        await r.until(lambda: list(r.running) == ["a.txt"], "a.txt running")
        h.scheduler.stop.set()  # before a.txt ends: its lane must not take b.txt
        r.release("a.txt")
        with anyio.fail_after(TIMEOUT_S):
            await returned.wait()  # run() returned: the scheduler is done, b.txt can no longer start
    assert r.finished == ["a.txt"] and r.cancelled == [] and r.started == ["a.txt"]
    assert h.history("Skills") and h.left_in("Skills") == ["b.txt"] and h.in_process("Skills") == []


async def test_the_grace_period_running_out_cancels_running_imports(tmp_path: Path) -> None:
    """An import still running when the grace period ends is cancelled; its file stays in InProcess/ for
    recovery at the next start, and files not yet claimed stay in the drop folder."""
    s = settings_for(tmp_path, max_concurrent=2)
    async with scheduler(s, grace_s=0.2, before=lambda h: h.drop("Skills", ["a.txt", "b.txt"])) as (h, returned):
        r = h.runner
        await r.until(lambda: list(r.running) == ["a.txt"], "a.txt running")
        h.scheduler.stop.set()
        with anyio.fail_after(TIMEOUT_S):
            await returned.wait()  # never released: only the grace period ends it
    assert r.cancelled == ["a.txt"] and r.finished == []
    assert h.in_process("Skills") == ["a.txt"] and h.left_in("Skills") == ["b.txt"] and h.history("Skills") == []
