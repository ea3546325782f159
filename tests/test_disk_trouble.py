"""Disk trouble while archiving: reported, retried with backoff, the file stays recoverable, resumes alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess, drop, query, result_of, wait_archived, wait_for, write_text

pytestmark = pytest.mark.e2e


def test_archive_failure_retries_then_resumes(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT_OSERROR"] = "archive:2"
    service.start()
    drop(write_text(tmp_path / "disk.txt", [["Name"], ["a"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'archive_failed'")[0][0] >= 1, 10)
    assert (service.layout.in_process_dir("Skills") / "disk.txt").exists()  # kept while the disk is in trouble
    [hist] = wait_archived(service.layout, "Skills", "disk.txt", timeout=30)
    assert result_of(hist)["status"] == "succeeded"
    failures = [json.loads(d) for (d,) in query(service.audit_db, "SELECT detail FROM events WHERE kind = 'archive_failed'")]
    assert [f["retry_in_s"] for f in failures] == [1.0, 2.0]
    assert "No space left on device" in failures[0]["error"]
    assert "cannot archive disk.txt" in service.output()
    assert query(service.system_db, "SELECT COUNT(*) FROM skills") == [(1,)]


def test_crash_while_disk_full_recovers_on_restart(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT_OSERROR"] = "archive:1000"
    service.start()
    drop(write_text(tmp_path / "stuck.txt", [["Name"], ["a"], ["b"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'archive_failed'")[0][0] >= 1, 10)
    service.kill()
    del service.env["AIMPORT_FAULT_OSERROR"]
    service.start()
    [hist] = wait_archived(service.layout, "Skills", "stuck.txt", timeout=30)
    assert result_of(hist)["created"] == "2"
    assert query(service.system_db, "SELECT COUNT(*) FROM skills") == [(2,)]
