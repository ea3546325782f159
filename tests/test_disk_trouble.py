"""Disk trouble: reported in the audit trail and the log, retried with backoff, the file stays recoverable,
and the service resumes by itself when the trouble clears (injected ENOSPC: tests run as root, so chmod
would not stop them, and mounting a tiny tmpfs needs privileges CI does not have)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import drop, query, result_of, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def history_data(svc: ServiceProcess, t: str) -> list[str]:
    return sorted(p.name for p in svc.layout.history_dir(t).iterdir() if not p.name.endswith((".log", ".result", ".err")))


def test_archive_failure_retries_then_resumes(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT_OSERROR"] = "archive:2"
    service.start()
    drop(write_text(tmp_path / "disk.txt", [["Name"], ["a"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: service.events("archive_failed"), 10, what="archive_failed")
    assert (service.layout.in_process_dir("Skills") / "disk.txt").exists()  # kept while the disk is in trouble
    [hist] = wait_archived(service.layout, "Skills", "disk.txt", timeout=30)
    assert result_of(hist)["status"] == "succeeded"
    failures = service.events("archive_failed")
    assert [f["retry_in_s"] for f in failures] == [1.0, 2.0]
    assert "No space left on device" in failures[0]["error"]
    assert "cannot archive disk.txt" in service.output()
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(1,)]


def test_disk_full_after_the_move_writing_side_files(service: ServiceProcess, tmp_path: Path) -> None:
    """Moving needs no space, writing the .log does: the retry writes side files, it never moves twice."""
    service.env["AIMPORT_FAULT_OSERROR"] = "side_files:2"
    service.start()
    drop(write_text(tmp_path / "half.txt", [["Name"], ["a"]]), service.layout.type_dir("Skills"))
    [hist] = wait_archived(service.layout, "Skills", "half.txt", timeout=30)
    assert result_of(hist)["status"] == "succeeded"
    assert history_data(service, "Skills") == [hist.name]
    wait_for(lambda: query(service.audit_db, "SELECT status, history_name FROM imports") == [("succeeded", hist.name)], 10)
    assert len(service.events("archive_failed")) == 2
    assert f"stays in History/{hist.name} without its .result" in service.output()


@pytest.mark.parametrize("point, code", [("work_dir", "DISK_FULL"), ("store", "STORE_UNAVAILABLE")])
def test_state_disk_trouble_during_import_is_retried(service: ServiceProcess, tmp_path: Path, point: str, code: str) -> None:
    """Nothing was applied and the file is not at fault: it is not archived as failed but imported again."""
    service.env["AIMPORT_FAULT_OSERROR"] = f"{point}:2"
    service.start()
    drop(write_text(tmp_path / "later.txt", [["Name"], ["a"], ["b"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: service.events("import_deferred"), 10, what="import_deferred")
    assert (service.layout.in_process_dir("Skills") / "later.txt").exists()
    [hist] = service.wait_done("Skills", "later.txt", timeout=30)
    res = result_of(hist)
    assert (res["status"], res["created"]) == ("succeeded", "2")
    deferred = service.events("import_deferred")
    assert deferred[0]["error_code"] == code and deferred[0]["retry_in_s"] == 1.0
    assert "retrying in 1s" in hist.with_name(hist.name + ".log").read_text()
    assert "cannot import later.txt now" in service.output()
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(2,)]
    assert query(service.audit_db, "SELECT status FROM imports") == [("succeeded",)]


def test_crash_while_disk_full_recovers_on_restart(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_FAULT_OSERROR"] = "archive:1000"
    service.start()
    drop(write_text(tmp_path / "stuck.txt", [["Name"], ["a"], ["b"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: service.events("archive_failed"), 10, what="archive_failed")
    service.kill()
    del service.env["AIMPORT_FAULT_OSERROR"]
    service.start()
    [hist] = wait_archived(service.layout, "Skills", "stuck.txt", timeout=30)
    assert result_of(hist)["created"] == "2"
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(2,)]


def test_file_removed_from_in_process_while_retrying(service: ServiceProcess, tmp_path: Path) -> None:
    """An operator clears InProcess/ by hand during disk trouble: the import ends, audited, instead of looping."""
    service.env["AIMPORT_FAULT_OSERROR"] = "archive:1000"
    service.start()
    drop(write_text(tmp_path / "gone.txt", [["Name"], ["a"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: service.events("archive_failed"), 10, what="archive_failed")
    (service.layout.in_process_dir("Skills") / "gone.txt").unlink()
    wait_for(lambda: service.events("file_vanished"), 10, what="file_vanished")
    assert query(service.audit_db, "SELECT status, error_code FROM imports") == [("succeeded", None)]  # (before the event)
    # the log line comes after the event
    wait_for(lambda: "gone.txt was removed from InProcess/ before it could be archived" in service.output(), 10,
             what="the log line of the file removed from InProcess/")
    assert history_data(service, "Skills") == []
    drop(write_text(tmp_path / "next.txt", [["Name"], ["b"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'archive_failed'")[0][0] >= 3, 15)
