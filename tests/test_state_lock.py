"""One service per state directory: a second one refuses to start, naming the pid that holds it (issue 26.7).

The hold is an OS lock (``flock``) on ``STATE/service.lock``: a service killed with kill -9 never keeps it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aimport import filelock
from tests.helpers import query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess


def test_own_and_owner(tmp_path: Path) -> None:
    lock = tmp_path / "service.lock"
    assert filelock.owner(lock) is None  # no file
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from aimport import filelock
        filelock.own(Path({str(lock)!r}))
        print("held", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert filelock.owner(lock) == holder.pid
        with pytest.raises(filelock.Owned) as refused:
            filelock.own(lock)
        assert refused.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert filelock.owner(lock) is None  # a dead process keeps no lock
    fd = filelock.own(lock)
    try:
        assert lock.read_text() == f"{os.getpid()}\n"
    finally:
        filelock.release(fd)


@pytest.mark.e2e
def test_a_second_service_on_one_state_dir_refuses_to_start(tmp_path: Path) -> None:
    a = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state").start()
    b = ServiceProcess(root=tmp_path / "other-root", state=tmp_path / "state", server="OTHER", args=["--max-concurrent", "9"])
    try:
        assert a.proc is not None
        b.start(wait=False)
        assert b.wait_exit(30) == 1
        assert (f"the state directory {tmp_path / 'state'} is in use by another aimport service (pid {a.proc.pid})"
                in b.output()), b.output()
        assert not (tmp_path / "other-root").exists()  # B did nothing
        assert json.loads((a.state / "service.json").read_text())["server"] == "TEST"
        write_text(tmp_path / "s.txt", [["Name"], ["Sales"]])
        os.replace(tmp_path / "s.txt", a.layout.type_dir("Skills") / "s.txt")
        [hist] = a.wait_done("Skills", "s.txt")
        assert result_of(hist)["status"] == "succeeded"
        assert query(a.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'service_started'") == [(1,)]
        a.kill()  # kill -9: the kernel lets go of its lock
        b.start()
        wait_for(lambda: query(b.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'service_started'") == [(2,)], 20,
                 what="B started")
    finally:
        for s in (b, a):
            s.stop()
