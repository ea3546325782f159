"""Office hours: the schedule, the limit switching at its boundaries, large files held until it ends, release.

The schedule and the hold logic run in-process against a clock the test sets (``SetClock``): the real
Scheduler, LimitSwitch, audit trail and metrics, with the worker process replaced by the FakeRunner of
tests/test_lanes.py. One test runs the real service as a subprocess with office hours all week, and
releases a held file with the real ``aimport release``. Every wait ends on a condition.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest

from aimport import filelock
from aimport.cli import main as cli_main
from aimport.cli.statusview import office_hours as status_office_hours
from aimport.readers.rowestimate import estimate_rows
from aimport.service import statedir
from aimport.service.app import Service, _reload
from aimport.service.detector import Detector
from aimport.service.health import HealthView
from aimport.service.jobcontext import JobContext
from aimport.service.lanes import Scheduler
from aimport.service.metrics import Metrics
from aimport.service.officehours.heldlist import read_held, release_request_path
from aimport.service.officehours.holds import HoldQueue, LargeFiles
from aimport.service.officehours.limitswitch import Limits, LimitSwitch
from aimport.service.officehours.schedule import OfficeHours
from aimport.settings import Settings, SettingsError, from_sources
from aimport.store.audit import Audit
from tests.helpers import Cli, CliResult, query, wait_for, write_openpyxl, write_text, write_xlsxwriter
from tests.serviceprocess import ServiceProcess
from tests.test_lanes import TIMEOUT_S, FakeRunner, settings_for

UTC = dt.UTC
WED_17 = dt.datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # a Wednesday, in office hours (Mon-Fri 07:30-18:00 UTC)
WED_18 = WED_17.replace(hour=18)
THU_0730 = dt.datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")


# -- the schedule ------------------------------------------------------------------------------------------


def at(day: int, hh: int, mm: int = 0, zone: dt.tzinfo = HELSINKI) -> dt.datetime:
    """A moment in the week of Monday 2026-11-23 (day 0 = Monday), wall-clock time in ``zone``."""
    return dt.datetime(2026, 11, 23 + day, hh, mm, tzinfo=zone)


def test_office_hours_and_their_boundaries() -> None:
    week = OfficeHours.parse("Mon-Fri 07:30-18:00, Sat 09:00-13:00", "Europe/Helsinki")
    assert week.is_office(at(2, 10)) and week.next_boundary(at(2, 10)) == at(2, 18) == week.end_of_office(at(2, 10))
    assert not week.is_office(at(2, 18)) and week.next_boundary(at(2, 18)) == at(3, 7, 30)  # 18:00 is outside
    assert week.is_office(at(2, 17, 59)) and not week.is_office(at(2, 7, 29)) and week.is_office(at(2, 7, 30))
    assert week.next_boundary(at(4, 18, 30)) == at(5, 9)  # Friday evening: Saturday 09:00
    assert week.next_boundary(at(5, 13)) == at(7, 7, 30)  # Saturday 13:00: Monday 07:30
    assert week.end_of_office(at(6, 12)) == at(6, 12)  # outside: now
    assert week.is_office(at(2, 8, zone=UTC))  # 08:00 UTC is 10:00 in Helsinki
    # the same moment however it is given; days and names in any case; whole names
    assert OfficeHours.parse("monday-FRIDAY 07:30-18:00, sat 09:00-13:00", "Europe/Helsinki").minutes == week.minutes
    night = OfficeHours.parse("Fri 22:00-02:00", "UTC")  # past midnight: ends on Saturday
    assert night.is_office(at(5, 1, zone=UTC)) and night.end_of_office(at(4, 23, zone=UTC)) == at(5, 2, zone=UTC)
    wrap = OfficeHours.parse("Sat-Mon 08:00-09:00", "UTC")  # a span past Sunday
    assert [wrap.is_office(at(d, 8, 30, zone=UTC)) for d in range(7)] == [True, False, False, False, False, True, True]
    always = OfficeHours.parse("Mon-Sun 00:00-24:00", "UTC")
    assert always.is_office(at(3, 3)) and always.next_boundary(at(3, 3)) is None and always.end_of_office(at(3, 3)) is None
    never = OfficeHours.parse("", "")
    assert not never.enabled and not never.is_office(at(2, 10)) and never.next_boundary(at(2, 10)) is None


def test_boundaries_are_wall_clock_times_across_daylight_saving() -> None:
    """Europe/Helsinki leaves summer time on Sunday 2026-10-25: Monday 07:30 is then 05:30 UTC, not 04:30."""
    week = OfficeHours.parse("Mon-Fri 07:30-18:00", "Europe/Helsinki")
    saturday = dt.datetime(2026, 10, 24, 15, 0, tzinfo=HELSINKI)
    monday = week.next_boundary(saturday)
    assert monday == dt.datetime(2026, 10, 26, 7, 30, tzinfo=HELSINKI)
    assert monday is not None and monday.astimezone(UTC).hour == 5 and monday.utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize(("spec", "problem"), [
    ("Mon-Fry 07:30-18:00", "unknown day 'Fry'"),
    ("Mon-Fri 7:30", "is not DAYS HH:MM-HH:MM"),
    ("Mon-Fri 07:30-18:00,", "an empty range"),
    ("Mon 08:00-08:00", "is empty"),
    ("Mon 24:00-02:00", "starts at 24:00"),
    ("Mon 07:60-08:00", "07:60 is not a time of day"),
    ("Mon 07:30-24:30", "24:30 is not a time of day"),
    ("07:30-18:00", "is not DAYS HH:MM-HH:MM"),
])
def test_a_bad_spec_says_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(SettingsError) as err:
        OfficeHours.parse(spec)
    assert str(err.value).startswith(f"invalid value for office_hours: {spec!r}: ") and problem in str(err.value)
    assert "Mon-Fri 07:30-18:00" in str(err.value)  # an example of the right form


def test_settings(tmp_path: Path) -> None:
    s = from_sources({"office_hours": "Mon-Fri 07:30-18:00", "time_zone": " Europe/Helsinki "}, env={})
    assert (s.office_hours, s.time_zone, s.office_max_concurrent, s.large_file_rows, s.large_file_mb) == (
        "Mon-Fri 07:30-18:00", "Europe/Helsinki", 1, 0, 0)
    assert from_sources({}, env={"AIMPORT_TIME_ZONE": "utc", "AIMPORT_LARGE_FILE_ROWS": "100000"}).large_file_rows == 100000
    with pytest.raises(SettingsError, match="invalid value for time_zone: 'Mars/Olympus_Mons'"):
        from_sources({}, env={"AIMPORT_TIME_ZONE": "Mars/Olympus_Mons"})
    base = Settings(root=tmp_path, logon_user="admin")
    with pytest.raises(SettingsError, match="--office-max-concurrent must be at least 1"):
        replace(base, office_max_concurrent=0).validate_for_run()
    with pytest.raises(SettingsError, match="--large-file-rows and --large-file-mb"):
        replace(base, large_file_mb=-1).validate_for_run()


def test_the_service_refuses_a_bad_spec_at_start(cli: Cli, tmp_path: Path) -> None:
    r = cli("run", "--root", tmp_path / "root", "--state-dir", tmp_path / "state", "--logon-user", "admin",
            "--office-hours", "Mon-Fri 07:30-18:00, Sun")
    assert r.returncode == 1
    assert "aimport run: error: invalid value for office_hours: 'Mon-Fri 07:30-18:00, Sun': 'Sun' is not DAYS" in r.stderr


# -- the row estimate ----------------------------------------------------------------------------------------


def test_rows_are_estimated_without_reading_the_file(tmp_path: Path) -> None:
    rows = [["Name", "Description"]] + [[f"skill {i}", "x" * 30] for i in range(3000)]
    two_sheets = {"Skills": rows, "Queues": rows[:11]}
    assert estimate_rows(write_openpyxl(tmp_path / "a.xlsx", two_sheets)) == 3000 + 10
    assert estimate_rows(write_xlsxwriter(tmp_path / "b.xlsx", two_sheets)) == 3000 + 10
    # a writer that leaves out <dimension>: the rows in the first 64 KB, scaled by the sheet's unpacked size
    plain = tmp_path / "c.xlsx"
    with zipfile.ZipFile(tmp_path / "b.xlsx") as src, zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                start = data.index(b"<dimension")
                data = data[:start] + data[data.index(b"/>", start) + 2:]
            dst.writestr(item, data)
    guess = estimate_rows(plain)
    assert guess is not None and 2700 < guess < 3300
    assert estimate_rows(write_text(tmp_path / "small.txt", rows[:6])) == 5  # whole file: exact
    big = estimate_rows(write_text(tmp_path / "big.txt", rows))
    assert big is not None and 2850 < big < 3150  # 64 KB scaled by the size
    wide = estimate_rows(write_text(tmp_path / "utf16.txt", rows, encoding="utf-16"))
    assert wide is not None and 2850 < wide < 3150
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert estimate_rows(tmp_path / "broken.xlsx") is None and estimate_rows(tmp_path / "old.xls") is None


def test_large_file_thresholds() -> None:
    assert LargeFiles(rows=100).why(10, 101) == "about 101 rows (large_file_rows 100)"
    assert LargeFiles(rows=100).why(10, 100) == "" and LargeFiles(rows=100).why(10, None) == ""
    assert LargeFiles(mb=1).why((1 << 20) + 1, None) == "1.0 MB (large_file_mb 1)" and LargeFiles(mb=1).why(1 << 20, 5) == ""
    assert not LargeFiles().enabled and LargeFiles().why(1 << 40, 10**9) == ""


# -- in-process: the real scheduler, a clock the test sets ----------------------------------------------------


@dataclass
class SetClock:
    """A clock the test moves (aimport.service.officehours.schedule.Clock)."""

    at: dt.datetime
    moved: anyio.Event = field(default_factory=anyio.Event)

    def now(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at
        self.moved.set()
        self.moved = anyio.Event()

    async def sleep_until(self, when: dt.datetime) -> None:
        while self.at < when:
            await self.moved.wait()


class CountingMetrics(Metrics):
    """The real metrics, also counting full folder scans."""

    scans = 0

    def scanned(self) -> None:
        super().scanned()
        self.scans += 1


@dataclass
class Office:
    settings: Settings
    clock: SetClock
    scheduler: Scheduler
    switch: LimitSwitch
    runner: FakeRunner
    metrics: CountingMetrics
    limiter: anyio.CapacityLimiter

    def drop(self, import_type: str, name: str, rows: int) -> Path:
        path = self.settings.layout.type_dir(import_type) / name
        write_text(path, [["Name"]] + [[f"item {i:07d}"] for i in range(rows)])
        old = path.stat().st_mtime - 3600  # settled at once
        os.utime(path, (old, old))
        return path

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(d) for (d,) in query(self.settings.audit_db, "SELECT detail FROM events WHERE kind = ? "
                                                "ORDER BY id", (kind,))]

    def metric(self, line: str) -> bool:
        self.metrics.refresh(HealthView(self.settings, self.limiter, intake=self.scheduler))
        return line in self.metrics.render().decode()

    def history(self, import_type: str) -> list[str]:
        return sorted(p.name for p in self.settings.layout.history_dir(import_type).glob("*.result"))


async def until(predicate: Callable[[], Any], what: str) -> None:
    with anyio.move_on_after(TIMEOUT_S):
        while not predicate():
            await anyio.sleep(0.02)
    assert predicate(), f"timed out waiting for {what}"


def office_settings(tmp_path: Path, **kw: Any) -> Settings:
    base = settings_for(tmp_path, max_concurrent=kw.pop("max_concurrent", 3), config=kw.pop("config", None))
    return replace(base, office_hours=kw.pop("office_hours", "Mon-Fri 07:30-18:00"), time_zone="UTC",
                   office_max_concurrent=kw.pop("office_max_concurrent", 1), rescan_s=0.1, **kw)


@asynccontextmanager
async def office(settings: Settings, clock: SetClock) -> AsyncIterator[Office]:
    """The real Scheduler (with its hold queue) and LimitSwitch on ``clock``; stopped when the block ends."""
    runner, metrics = FakeRunner(), CountingMetrics()
    schedule = OfficeHours.parse(settings.office_hours, settings.time_zone)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    held = statedir.lock(settings.state_dir)  # as the service holds it: `aimport release` sees a running service
    async with Audit(settings.audit_db) as audit:
        limiter = anyio.CapacityLimiter(settings.max_concurrent)
        ctx = JobContext(settings, settings.layout, audit, "test-audit", limiter, metrics, runner=runner)
        switch = LimitSwitch(ctx, schedule, clock, Limits(settings.max_concurrent, settings.office_max_concurrent))
        limiter.total_tokens = switch.current_limit()
        sched = Scheduler(ctx, Detector(settings.layout, 0, settings.max_pending),
                          holds=HoldQueue.for_settings(settings, schedule, clock))
        switch.listeners.append(sched.window_changed)
        runner.limit = lambda: limiter.total_tokens
        returned = anyio.Event()

        async def run() -> None:
            await sched.run(60, poll=True, poll_ms=20, rescan_s=settings.rescan_s)
            returned.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            tg.start_soon(switch.run)
            try:
                yield Office(settings, clock, sched, switch, runner, metrics, limiter)
            finally:
                sched.stop.set()
                runner.release(*runner.running)
                with anyio.fail_after(TIMEOUT_S):
                    await returned.wait()
                tg.cancel_scope.cancel()
                filelock.release(held)


async def test_the_limit_switches_at_the_boundaries_and_running_imports_go_on(tmp_path: Path) -> None:
    s = office_settings(tmp_path, max_concurrent=3, office_max_concurrent=1)
    names = [f"c{i}.txt" for i in range(1, 7)]
    async with office(s, SetClock(WED_17)) as o:
        r = o.runner
        await until(lambda: o.events("concurrency_limit_changed"), "the first window")
        assert o.events("concurrency_limit_changed") == [
            {"window": "office_hours", "limit": 1, "previous": None, "until": "2026-11-25T18:00+00:00"}]
        assert o.limiter.total_tokens == 1 and o.metric("aimport_concurrency_limit 1.0")
        for n in names:
            o.drop("OutboundCampaign", n, 3)
        await r.until(lambda: len(r.running) == 1, "one import (office hours)")

        o.clock.set(WED_18)  # office hours end: three at once
        await r.until(lambda: len(r.running) == 3, "three imports after 18:00")
        assert o.events("concurrency_limit_changed")[-1] == {
            "window": "outside_office_hours", "limit": 3, "previous": 1, "until": "2026-11-26T07:30+00:00"}
        assert o.metric("aimport_concurrency_limit 3.0")

        o.clock.set(THU_0730)  # office hours again: the three go on; no new one until none runs
        await until(lambda: o.limiter.total_tokens == 1, "limit 1 at 07:30")
        running = sorted(r.running)
        assert len(running) == 3 and r.cancelled == []
        await finish(o, running[0])
        await finish(o, running[1])
        assert sorted(r.running) == [running[2]] and len(r.started) == 3  # at the limit of 1: nothing new
        await finish(o, running[2])
        while len(r.finished) < len(names):
            await r.until(lambda: len(r.running) == 1, "one running")
            await finish(o, next(iter(r.running)))
    assert r.over_limit == [] and r.cancelled == [] and len(o.history("OutboundCampaign")) == 6
    assert [e["window"] for e in o.events("concurrency_limit_changed")] == ["office_hours", "outside_office_hours",
                                                                            "office_hours"]


async def finish(o: Office, name: str) -> None:
    o.runner.release(name)
    await o.runner.until(lambda: name in o.runner.finished, f"{name} finished")


async def test_sighup_keeps_the_window_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reload in office hours changes max_concurrent for later; the office limit stays until 18:00."""
    monkeypatch.delenv("AIMPORT_MAX_CONCURRENT", raising=False)
    monkeypatch.delenv("AIMPORT_OFFICE_MAX_CONCURRENT", raising=False)
    config = tmp_path / "aimport.toml"
    config.write_text("max_concurrent = 2\noffice_max_concurrent = 1\n", encoding="utf-8")
    s = office_settings(tmp_path, max_concurrent=2, office_max_concurrent=1, config=config)
    async with office(s, SetClock(WED_17)) as o:
        svc = Service(s, o.switch.ctx, HealthView(s, o.limiter), o.metrics, limits=o.switch)
        await until(lambda: o.events("concurrency_limit_changed"), "the first window")
        config.write_text("max_concurrent = 4\noffice_max_concurrent = 1\n", encoding="utf-8")
        await _reload(svc)
        assert o.limiter.total_tokens == 1 and o.metric("aimport_concurrency_limit 1.0")
        assert o.events("settings_reloaded") == [{"max_concurrent": 4, "previous": 2, "office_max_concurrent": 1,
                                                  "previous_office": 1, "window": "office_hours", "limit": 1}]
        o.clock.set(WED_18)
        await until(lambda: o.limiter.total_tokens == 4, "the reloaded max_concurrent after 18:00")
        config.write_text("max_concurrent = 4\noffice_max_concurrent = 2\n", encoding="utf-8")
        await _reload(svc)
        assert o.limiter.total_tokens == 4
        o.clock.set(THU_0730)
        await until(lambda: o.limiter.total_tokens == 2, "the reloaded office_max_concurrent at 07:30")
        assert o.metric("aimport_concurrency_limit 2.0")


async def test_a_large_file_waits_for_the_end_of_office_hours(tmp_path: Path) -> None:
    s = office_settings(tmp_path, large_file_rows=10, office_max_concurrent=2)
    async with office(s, SetClock(WED_17)) as o:
        r = o.runner
        big = o.drop("Skills", "big.txt", 50)
        o.drop("Skills", "small.txt", 3)
        o.drop("OutboundCampaign", "customers.txt", 50)  # a campaign is never held
        await r.until(lambda: {"small.txt", "customers.txt"} <= set(r.running), "the small file and the campaign")
        await until(lambda: o.events("held_for_window"), "the hold")
        [held] = o.scheduler.held_files()
        assert (held.path, held.import_type, held.estimated_rows, held.starts_at) == (big, "Skills", 50, WED_18)
        assert o.events("held_for_window") == [{
            "file": "big.txt", "type": "Skills", "window": "office_hours", "starts_at": "2026-11-25T18:00+00:00",
            "size_bytes": big.stat().st_size, "estimated_rows": 50, "reason": "about 50 rows (large_file_rows 10)"}]
        assert o.metric("aimport_held_files 1.0")
        await finish(o, "small.txt")
        await finish(o, "customers.txt")
        assert o.metric("aimport_pending_files 0.0")  # held files are not pending: they wait on purpose
        listed = read_held(s.state_dir)
        assert [f.path for f in listed.files] == [big] and listed.office_hours == "Mon-Fri 07:30-18:00"
        report = status_office_hours(s)
        assert [h["file"] for h in report["held"]] == ["big.txt"] and report["office_hours"]["spec"] == s.office_hours
        # rescans and a touched file do not announce it again, and it is never claimed meanwhile
        scans = o.metrics.scans
        os.utime(big)
        await until(lambda: o.metrics.scans >= scans + 2, "two more folder scans")
        assert len(o.events("held_for_window")) == 1 and "big.txt" not in r.started and big.exists()

        o.clock.set(WED_18)  # office hours end: the normal path (detected, claimed, imported)
        await r.until(lambda: "big.txt" in r.running, "big.txt imported after 18:00")
        assert o.events("hold_released") == [{"file": "big.txt", "type": "Skills", "reason": "office_hours_ended",
                                              "requested_by": None}]
        await finish(o, "big.txt")
        assert o.scheduler.held_files() == [] and o.metric("aimport_held_files 0.0")
        await until(lambda: read_held(s.state_dir).files == [], "held.json emptied")
    assert len(o.history("Skills")) == 2 and len(o.events("held_for_window")) == 1
    assert sum(1 for e in o.events("detected") if e["file"] == "big.txt") == 1


async def test_release_starts_one_held_file_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = office_settings(tmp_path, office_hours="Mon-Sun 00:00-24:00", large_file_mb=1, office_max_concurrent=3)
    location = ["--root", str(s.root), "--state-dir", str(s.state_dir), "--server", s.server]
    async with office(s, SetClock(WED_17)) as o:
        r = o.runner
        a = o.drop("Skills", "a.txt", 100_000)  # 1.4 MB
        b = o.drop("Queues", "b.txt", 100_000)
        o.drop("Presence", "small.txt", 2)
        await r.until(lambda: "small.txt" in r.running, "the small file")
        await until(lambda: len(read_held(s.state_dir).files) == 2, "two files held")
        assert all(f.starts_at is None for f in o.scheduler.held_files())  # office hours never end: only release

        assert cli_main(["release", str(a), *location]) == 0
        out = capsys.readouterr().out
        assert out.startswith("released Skills/a.txt (about ") and " MB), held since " in out
        assert "next folder check" in out
        await r.until(lambda: "a.txt" in r.running, "a.txt released and imported")
        [event] = o.events("hold_released")
        assert event["file"] == "a.txt" and event["reason"] == "operator" and event["requested_by"]
        await until(lambda: not release_request_path(s.state_dir, a).exists(), "the request removed")
        assert [f.path for f in o.scheduler.held_files()] == [b] and "b.txt" not in r.started

        assert cli_main(["release", "b.txt", *location]) == 0  # by name
        await r.until(lambda: "b.txt" in r.running, "b.txt released by name")
        for name in ("small.txt", "a.txt", "b.txt"):
            await finish(o, name)
    assert len(o.events("held_for_window")) == 2 and len(o.events("hold_released")) == 2
    capsys.readouterr()
    waiting = o.drop("Skills", "waiting.txt", 2)  # the service is stopped: the file waits, but is not held
    assert cli_main(["release", str(waiting), *location]) == 1
    assert "waiting.txt is not held: the service imports it as usual" in capsys.readouterr().err
    assert cli_main(["release", "nothing.txt", *location]) == 1
    assert "no held file nothing.txt" in capsys.readouterr().err
    stray = tmp_path / "stray.txt"
    stray.write_text("x")
    assert cli_main(["release", str(stray), *location]) == 1
    assert "stray.txt is not in a drop folder" in capsys.readouterr().err


async def test_a_held_file_removed_by_hand_leaves_the_queue(tmp_path: Path) -> None:
    s = office_settings(tmp_path, large_file_rows=10)
    async with office(s, SetClock(WED_17)) as o:
        big = o.drop("Skills", "big.txt", 50)
        await until(lambda: o.scheduler.held_files(), "the hold")
        big.unlink()
        await until(lambda: not o.scheduler.held_files(), "the hold dropped")
        o.drop("Skills", "big.txt", 50)  # dropped again: held again (a new file)
        await until(lambda: len(o.events("held_for_window")) == 2, "held again")
        assert o.runner.started == []


# -- the real service ---------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_service_holds_a_large_file_and_aimport_release_starts_it(service: ServiceProcess, cli: Cli, tmp_path: Path) -> None:
    service.args += ["--rescan-s", "0.5", "--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "5",
                     "--office-max-concurrent", "1", "--max-concurrent", "2"]
    service.start()
    events = service.events

    def aimport(*args: str | Path) -> CliResult:
        return cli(*args, "--state-dir", service.state, cwd=tmp_path)

    [limit] = wait_for(lambda: events("concurrency_limit_changed"), 20, what="the office-hours limit")
    assert (limit["window"], limit["limit"], limit["until"]) == ("office_hours", 1, None)
    assert service.metric("aimport_concurrency_limit") == 1.0
    skills = service.layout.type_dir("Skills")
    write_text(tmp_path / "big.txt", [["Name", "Description"]] + [[f"s{i}", "x"] for i in range(20)])
    write_text(tmp_path / "small.txt", [["Name", "Description"], ["one", "x"]])
    os.replace(tmp_path / "big.txt", skills / "big.txt")
    os.replace(tmp_path / "small.txt", skills / "small.txt")
    service.wait_done("Skills", "small.txt")
    [held] = wait_for(lambda: events("held_for_window"), 20, what="held_for_window")
    assert (held["file"], held["estimated_rows"], held["starts_at"]) == ("big.txt", 20, None)
    wait_for(lambda: service.metric("aimport_held_files") == 1.0, 20, what="aimport_held_files 1")
    service.wait_scans(2)
    assert (skills / "big.txt").exists() and len(events("held_for_window")) == 1
    status = aimport("status")
    assert status.returncode == 0 and "held until office hours end" in status.stdout and "big.txt" in status.stdout
    assert "office hours: Mon-Sun 00:00-24:00 (UTC); now office hours" in status.stdout

    r = aimport("release", str(skills / "big.txt"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("released Skills/big.txt (about 20 rows, ")
    [history] = service.wait_done("Skills", "big.txt")
    assert history.with_name(history.name + ".result").read_text().startswith("status: succeeded")
    assert [e["reason"] for e in events("hold_released")] == ["operator"]
    wait_for(lambda: service.metric("aimport_held_files") == 0.0, 20, what="aimport_held_files 0")
    again = aimport("release", "big.txt")
    assert again.returncode == 1 and "no held file big.txt" in again.stderr
