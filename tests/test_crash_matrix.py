"""kill -9 at every step of an import, restart: archived exactly once, every row exactly once, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import drop, query, result_of, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(service_on_both: ServiceProcess) -> ServiceProcess:
    """Every crash point on both backends (the ledger commits with the data on each)."""
    return service_on_both
ROWS = 5000
STEPS = ["after_detect", "after_claim", "mid_parse", "mid_transaction", "after_commit", "mid_history_move", "mid_side_file",
         "after_archive"]


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_step_then_restart(service: ServiceProcess, tmp_path: Path, step: str) -> None:
    layout = service.layout
    service.env["AIMPORT_FAULT"] = step
    service.start()
    rows = [["External ID", "First Name", "Phone"]] + [[f"E{i}", f"Person {i}", f"040{i:07d}"] for i in range(ROWS)]
    drop(write_text(tmp_path / "people.txt", rows), layout.type_dir("Directory"))
    assert service.wait_exit(60) == -9, service.output()
    del service.env["AIMPORT_FAULT"]
    service.start()
    [hist] = wait_archived(layout, "Directory", "people.txt", timeout=60)
    wait_for(lambda: query(service.audit_db, "SELECT status FROM imports") == [("succeeded",)], 30, what="audit finished")
    res = result_of(hist)
    assert (res["status"], res["rows"], res["created"]) == ("succeeded", str(ROWS), str(ROWS))
    data_files = [p for p in layout.history_dir("Directory").iterdir() if not p.name.endswith((".log", ".result", ".err"))]
    assert data_files == [hist]
    assert not hist.with_name(hist.name + ".err").exists() and hist.with_name(hist.name + ".log").exists()
    assert list(layout.in_process_dir("Directory").iterdir()) == []
    assert not list(layout.type_dir("Directory").glob("*.txt"))
    assert query(service.store_address, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(ROWS, ROWS)]
    imports = query(service.audit_db, "SELECT status, history_name FROM imports")
    assert imports == [("succeeded", hist.name)]
    recovered = [json.loads(d) for (d,) in query(service.audit_db, "SELECT detail FROM events WHERE kind = 'recovered'")]
    if step == "after_detect":
        assert recovered == []  # nothing was claimed: the file simply waited in its folder
    else:
        assert len(recovered) == 1
        committed = step in ("after_commit", "mid_history_move", "mid_side_file", "after_archive")
        assert recovered[0]["committed"] is committed
    assert query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'service_started'") == [(2,)]


AUDIT_LOST_STEPS = ["mid_transaction", "after_commit", "mid_history_move", "mid_side_file", "after_archive"]


def _remove_audit(service: ServiceProcess) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{service.audit_db}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("when", ["while_running", "after_crash"])
@pytest.mark.parametrize("step", AUDIT_LOST_STEPS)
def test_audit_trail_lost_never_doubles_rows(service: ServiceProcess, tmp_path: Path, step: str, when: str) -> None:
    """audit.sqlite deleted while the service runs (or after the crash): a committed file is never applied again."""
    layout = service.layout
    service.env["AIMPORT_FAULT"] = step
    service.start()
    if when == "while_running":
        _remove_audit(service)  # the running service keeps its connection to the deleted file
    rows = [["External ID", "First Name", "Phone"]] + [[f"E{i}", f"Person {i}", f"040{i:07d}"] for i in range(ROWS)]
    drop(write_text(tmp_path / "people.txt", rows), layout.type_dir("Directory"))
    assert service.wait_exit(60) == -9, service.output()
    if when == "after_crash":
        _remove_audit(service)
    del service.env["AIMPORT_FAULT"]
    service.start(wait=False)
    service.wait_ready(60)  # /readyz: recovery is done before the first scan
    [hist] = wait_archived(layout, "Directory", "people.txt", timeout=60)
    open_rows = "SELECT COUNT(*) FROM imports WHERE status IN ('queued', 'in_process')"
    wait_for(lambda: query(service.audit_db, open_rows) == [(0,)], 30, what="no import left open")
    res = result_of(hist)
    assert res["status"] == "succeeded" and res["rows"] == str(ROWS), res
    assert query(service.store_address, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(ROWS, ROWS)]
    assert query(service.store_address, "SELECT COUNT(*) FROM import_ledger") == [(1,)]
    data_files = [p for p in layout.history_dir("Directory").iterdir() if not p.name.endswith((".log", ".result", ".err"))]
    assert data_files == [hist]
    assert list(layout.in_process_dir("Directory").iterdir()) == []
    recreated = query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'audit_trail_recreated'")[0][0]
    assert recreated == 1


def test_audit_trail_deleted_while_running_is_recreated(service: ServiceProcess, tmp_path: Path) -> None:
    """The deletion is logged as an ERROR, the new trail says so, and later imports are recorded in it."""
    service.start()
    layout = service.layout
    drop(write_text(tmp_path / "a.txt", [["Name"], ["one"]]), layout.type_dir("Skills"))
    service.wait_done("Skills", "a.txt")
    _remove_audit(service)
    wait_for(lambda: service.audit_db.exists(), 15, what="the audit trail recreated")
    assert "ERROR   the audit trail" in service.output()
    drop(write_text(tmp_path / "b.txt", [["Name"], ["two"]]), layout.type_dir("Skills"))
    service.wait_done("Skills", "b.txt")
    kinds = [k for (k,) in query(service.audit_db, "SELECT kind FROM events ORDER BY id")]
    assert kinds[0] == "audit_trail_recreated" and "finished" in kinds
    assert query(service.audit_db, "SELECT file_name, status FROM imports") == [("b.txt", "succeeded")]


async def _readyz_with_deleted_audit(tmp_path: Path) -> tuple[int, int]:
    import anyio

    from aimport.service.health import HealthView, readyz
    from aimport.settings import from_sources
    from aimport.store.audit import Audit

    s = from_sources({"root": str(tmp_path / "root"), "state_dir": str(tmp_path / "state"), "enabled": False})
    s.state_dir.mkdir(parents=True)
    async with Audit(s.audit_db) as audit:
        svc = HealthView(s, anyio.CapacityLimiter(1), audit=audit)
        s.layout.export_dir.mkdir(parents=True)
        before = readyz(svc, 0.0)[0]
        s.audit_db.unlink()
        after = readyz(svc, 0.0)[0]
        await audit.ensure_current()
        assert readyz(svc, 0.0)[0] == 200
    return before, after


def test_readyz_fails_while_the_audit_trail_is_gone(tmp_path: Path) -> None:
    import anyio

    assert anyio.run(_readyz_with_deleted_audit, tmp_path) == (200, 503)
