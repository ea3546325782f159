"""kill -9 at every step of an import, restart: archived exactly once, every row exactly once, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess, drop, query, result_of, wait_archived, wait_for, write_text

pytestmark = pytest.mark.e2e
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
    assert query(service.system_db, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(ROWS, ROWS)]
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
