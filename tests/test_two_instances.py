"""Two services on one root (separate state directories): the rename claim decides, both progress."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import query, wait_for
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def test_no_file_imported_twice(tmp_path: Path) -> None:
    a = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state-a", args=["--settle-ms", "50"]).start()
    b = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state-b", args=["--settle-ms", "50"]).start()
    try:
        staging = tmp_path / "staging"
        staging.mkdir()
        n = 120
        types = ["Skills", "Presence", "Calendar", "UserGroup"]
        for i in range(n):
            p = staging / f"f{i:03d}.txt"
            p.write_bytes(f"\ufeffName\r\nitem {i}\r\n".encode())
        for i in range(n):
            os.replace(staging / f"f{i:03d}.txt", a.layout.type_dir(types[i % 4]) / f"f{i:03d}.txt")

        def done() -> bool:
            total = sum(query(s.audit_db, "SELECT COUNT(*) FROM imports WHERE status = 'succeeded'")[0][0] for s in (a, b))
            return total >= n

        wait_for(done, 120, what="all imported")
        names_a = [r[0] for r in query(a.audit_db, "SELECT file_name FROM imports")]
        names_b = [r[0] for r in query(b.audit_db, "SELECT file_name FROM imports")]
        assert sorted(names_a + names_b) == sorted(f"f{i:03d}.txt" for i in range(n))
        assert names_a and names_b, (len(names_a), len(names_b))
        history = [p.name for t in types for p in a.layout.history_dir(t).iterdir() if p.suffix == ".txt"]
        assert len(history) == n
    finally:
        for s in (a, b):
            s.stop()


def test_second_instance_on_one_root_leaves_a_running_import_alone(tmp_path: Path) -> None:
    """Instance B's start-up recovery must not touch instance A's running import (issue 12.4).

    B sees A's file in InProcess/ of the shared root; the file's lock tells it that a live process imports it.
    (Since issue 26.7 a second service on A's own state directory refuses to start: tests/test_state_lock.py.)
    """
    from tests.helpers import result_of, wait_archived, write_text

    a = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state",
                       env={"AIMPORT_PAUSE": "before_commit:4000"}).start()  # A's import waits before its COMMIT
    b = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state-b")
    try:
        rows = [["ExternalId", "LastName"]] + [[f"E{i}", f"Last {i}"] for i in range(500)]
        staged = write_text(tmp_path / "held.txt", rows)
        os.replace(staged, a.layout.type_dir("Directory") / "held.txt")
        wait_for(lambda: query(a.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'started'")[0][0] == 1, 30,
                 what="A importing")
        b.start(wait=False)
        b.wait_ready(30)  # /readyz: B recovered (recovery runs before the first scan) and watching
        assert query(a.audit_db, "SELECT status FROM imports") == [("in_process",)]  # A is still importing
        [hist] = wait_archived(a.layout, "Directory", "held.txt", timeout=60)
        wait_for(lambda: query(a.audit_db, "SELECT status FROM imports") == [("succeeded",)], 30, what="A finished")
        assert result_of(hist)["rows"] == "500"
        for s in (a, b):
            assert query(s.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'recovered'") == [(0,)]
        assert query(a.audit_db, "SELECT status, error_code FROM imports") == [("succeeded", None)]
        assert query(a.store_address, "SELECT COUNT(*) FROM directory_entries") == [(500,)]
    finally:
        for s in (b, a):
            s.stop()
