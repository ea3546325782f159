"""Two services on one root (separate state directories): the rename claim decides, both progress."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess, query, wait_for

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
