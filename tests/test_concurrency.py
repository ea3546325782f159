"""The concurrency limit holds (from the audit trail) and is actually reached; kill -9 then restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers import drop, query, result_of, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def _ts(s: str) -> float:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda p: (p[0], p[1]))
    best = cur = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


def test_limit_never_exceeded_and_reached(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--max-concurrent", "2"]
    service.start()
    layout = service.layout
    files = []
    for t, header in (("Skills", "Name"), ("Presence", "Name"), ("BlockedNumbers", "Number"), ("Calendar", "Name")):
        for i in range(2):
            name = f"{t.lower()}-{i}.txt"
            rows = [[header]] + [[f"{40_000_000 + j}" if t == "BlockedNumbers" else f"{t}-{i}-{j}"] for j in range(15_000)]
            files.append((t, write_text(tmp_path / name, rows)))
    for t, p in files:
        drop(p, layout.type_dir(t))
    for t, p in files:
        [hist] = service.wait_done(t, p.name, timeout=120)
        assert result_of(hist)["status"] == "succeeded"
    rows = query(service.audit_db, "SELECT import_type, started_at, finished_at FROM imports")
    assert len(rows) == 8
    intervals = [(_ts(a), _ts(b)) for _, a, b in rows]
    assert max_overlap(intervals) == 2
    for t in {r[0] for r in rows}:
        assert max_overlap([(_ts(a), _ts(b)) for tt, a, b in rows if tt == t]) == 1


def test_kill_mid_transaction_then_restart_applies_exactly_once(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT"] = "mid_transaction"
    service.start()
    layout = service.layout
    rows = [["Name", "Description"]] + [[f"skill {i}", "d"] for i in range(5000)]
    drop(write_text(tmp_path / "big.txt", rows), layout.type_dir("Skills"))
    assert service.wait_exit(30) == -9
    assert (layout.in_process_dir("Skills") / "big.txt").exists()
    del service.env["AIMPORT_FAULT"]
    service.start()
    [hist] = service.wait_done("Skills", "big.txt")
    assert result_of(hist)["created"] == "5000"
    assert query(service.store_address, "SELECT COUNT(*), COUNT(DISTINCT name) FROM skills") == [(5000, 5000)]
    assert query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'recovered'")[0][0] == 1
    assert query(service.audit_db, "SELECT status FROM imports") == [("succeeded",)]
    assert "recovered after a restart: nothing of the interrupted import had been applied" in hist.with_name(hist.name + ".log").read_text()


def test_kill_after_commit_only_archives_again(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT"] = "after_commit"
    service.start()
    layout = service.layout
    drop(write_text(tmp_path / "c.txt", [["Name"], ["a"], ["b"]]), layout.type_dir("Skills"))
    assert service.wait_exit(30) == -9
    del service.env["AIMPORT_FAULT"]
    service.start()
    [hist] = wait_archived(layout, "Skills", "c.txt")
    assert result_of(hist)["created"] == "2"
    assert "only archiving was redone" in hist.with_name(hist.name + ".log").read_text()
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(2,)]
    wait_for(lambda: query(service.audit_db, "SELECT status FROM imports") == [("succeeded",)], 5)


def test_sigterm_grace_expired_cancels_and_restart_recovers(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--grace-s", "0.2"]
    service.start()
    layout = service.layout
    rows = [["Name", "Description"]] + [[f"s{i}", "x" * 50] for i in range(300_000)]
    drop(write_text(tmp_path / "huge.txt", rows), layout.type_dir("Skills"))
    wait_for(lambda: (layout.in_process_dir("Skills") / "huge.txt").exists(), 20, what="claim")
    assert service.stop() == 0
    assert "grace period over" in service.output()
    assert (layout.in_process_dir("Skills") / "huge.txt").exists()
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(0,)]
    service.args.remove("--grace-s")
    service.args.remove("0.2")
    service.start()
    [hist] = wait_archived(layout, "Skills", "huge.txt", timeout=120)
    assert result_of(hist)["created"] == "300000"
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(300_000,)]
