"""A staging helper killed (the OOM killer, kill -9) is a crashed import process, not a bug (issue 26.5).

The import fails with ``WORKER_CRASHED`` and the retry policy of a crashed worker, applies nothing and
leaves no scratch file; the service goes on with the next file.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from aimport.importing import stagewriter
from tests.helpers import StoreUnderTest, log_of, query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess


def _helpers(work_dir: Path) -> list[int]:
    """The staging helper processes writing a scratch file in ``work_dir`` (found in /proc)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            args = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"aimport.importing.stageserver" in args and any(a.startswith(str(work_dir).encode()) for a in args):
            found.append(int(entry.name))
    return found


def _rows(n: int) -> list[list[str]]:
    return [["ExternalId", "LastName"]] + [[f"E{i}", f"Last {i}"] for i in range(n)]


def test_run_import_with_its_helper_killed_ends_as_a_crashed_worker(store: StoreUnderTest, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stagewriter, "HELPER_AFTER", 1)
    path = write_text(tmp_path / "d.txt", _rows(7_000))
    work = store.work_dir
    killed: list[int] = []

    def kill_the_helper(_phase: str, rows: int) -> None:
        if rows > 4_000 and not killed:
            for pid in _helpers(work):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    store.open().close()
    out = store.imp(path, "Directory", progress=kill_the_helper)
    assert killed, "the helper process was never seen"
    assert (out.status, out.error_code, out.transient) == ("failed", "WORKER_CRASHED", False)  # issue 26.5: not a bug
    log = log_of(out)
    assert "the staging helper process was killed (signal SIGKILL" in log and "internal error" not in log
    assert store.query("SELECT COUNT(*) FROM directory_entries") == [(0,)]  # nothing applied
    assert store.query("SELECT COUNT(*) FROM import_ledger") == [(0,)]  # as a worker crash: not ledgered
    assert not list(work.glob("*.sqlite*"))


@pytest.mark.e2e
def test_the_service_fails_a_file_whose_helper_is_killed_like_a_crashed_worker(service: ServiceProcess,
                                                                               tmp_path: Path) -> None:
    service.start()
    work = service.state / "work"
    write_text(tmp_path / "big.txt", _rows(300_000))
    os.replace(tmp_path / "big.txt", service.layout.type_dir("Directory") / "big.txt")
    [helper] = wait_for(lambda: _helpers(work), 60, interval=0.01, what="the staging helper of big.txt")
    os.kill(helper, signal.SIGKILL)
    [hist] = service.wait_done("Directory", "big.txt", timeout=120)
    res = result_of(hist)
    assert res["status"] == "failed"
    assert hist.with_name(hist.name + ".err").read_text().startswith("WORKER_CRASHED")
    log = hist.with_name(hist.name + ".log").read_text()
    assert "the staging helper process was killed (signal SIGKILL" in log and "internal error" not in log
    [(code,)] = query(service.audit_db, "SELECT error_code FROM imports WHERE file_name = 'big.txt'")
    assert code == "WORKER_CRASHED"
    deferred = query(service.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'import_deferred'")
    assert deferred == [(0,)]  # the retry policy of WORKER_CRASHED: not retried
    assert query(service.store_address, "SELECT COUNT(*) FROM directory_entries") == [(0,)]
    assert not list(work.glob("*.sqlite*"))
    write_text(tmp_path / "next.txt", _rows(3))  # the service goes on
    os.replace(tmp_path / "next.txt", service.layout.type_dir("Directory") / "next.txt")
    [nxt] = service.wait_done("Directory", "next.txt")
    assert result_of(nxt)["status"] == "succeeded"
    [(detail,)] = query(service.audit_db, "SELECT detail FROM events WHERE kind = 'failed'")
    assert json.loads(detail)["error_code"] == "WORKER_CRASHED"
