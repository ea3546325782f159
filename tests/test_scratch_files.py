"""Scratch files of imports whose process died do not pile up in STATE/work (issue 26.6).

A worker killed with kill -9 (the OOM killer) leaves its ``<key>.stage.sqlite``; a service killed the same
way leaves its imports' ones. The job removes them when its worker dies, the service at start; a scratch
file a live process still has open (a foreground ``aimport import`` beside the service) is left alone.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from aimport.importing import scratch
from tests.helpers import query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _scratch(work: Path) -> list[str]:
    return sorted(p.name for p in work.glob("*.sqlite*"))


def test_a_killed_worker_leaves_no_scratch_file(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--no-stage-helper"]  # one process to kill: the worker
    service.start()
    work = service.state / "work"
    write_text(tmp_path / "big.txt", [["ExternalId", "LastName"]] + [[f"E{i}", f"L{i}"] for i in range(300_000)])
    os.replace(tmp_path / "big.txt", service.layout.type_dir("Directory") / "big.txt")
    wait_for(lambda: _scratch(work) and list(work.glob("progress-*.json")), 60, interval=0.01,
             what="big.txt being staged")
    assert scratch.left_over(work)  # the names the import writes are the ones aimport.importing.scratch knows
    assert service.proc is not None
    workers = _children(service.proc.pid)
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    [hist] = service.wait_done("Directory", "big.txt", timeout=60)
    assert result_of(hist)["status"] == "failed"
    assert query(service.audit_db, "SELECT error_code FROM imports") == [("WORKER_CRASHED",)]
    assert _scratch(work) == []


def test_scratch_files_of_crashed_imports_are_removed_at_start(service: ServiceProcess) -> None:
    work = service.state / "work"
    work.mkdir(parents=True)
    left = ["0f3c-12.stage.sqlite", "0f3c-12.stage.sqlite-journal", "0f3c-13.customers.sqlite",
            "check-1733500000000000000.stage.sqlite"]
    for name in left:
        (work / name).write_bytes(b"x" * 4096)
    (work / "progress-12.json").write_text('{"phase": "reading", "rows": 10}')
    (work / "0f3c-12.log").write_text("kept: the work log of an import\n")
    in_use = work / "check-1733500000000000001.stage.sqlite"  # a foreground check writing it right now
    in_use.write_bytes(b"")
    with open(in_use, "r+b"):
        service.start()
        assert _scratch(work) == [in_use.name]
        assert not (work / "progress-12.json").exists()
        assert (work / "0f3c-12.log").exists()
    service.stop()
    service.start()
    assert _scratch(work) == []
    assert "removed 5 scratch file(s) of interrupted imports" in service.output()
