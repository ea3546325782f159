"""The real service as a subprocess: drop files, check History, side files and the audit trail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.helpers import Cli, drop, query, result_of, wait_archived, wait_for, write_text, write_xlsxwriter
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def test_drop_by_rename_imports_and_archives(started: ServiceProcess, tmp_path: Path) -> None:
    layout = started.layout
    src = write_xlsxwriter(tmp_path / "skills.xlsx", {"My Skills": [["Name", "Description"], ["Sales", "s"], ["Support", "h"]]})
    drop(src, layout.type_dir("Skills"))
    [hist] = started.wait_done("Skills", "skills.xlsx")
    res = result_of(hist)
    assert (res["status"], res["type"], res["file"], res["rows"], res["created"]) == ("succeeded", "Skills", "skills.xlsx", "2", "2")
    for key in ("updated", "deleted", "unchanged", "rejected", "started", "finished", "duration_ms", "sha256"):
        assert key in res
    assert not hist.with_name(hist.name + ".err").exists()
    assert "importing skills.xlsx as Skills" in hist.with_name(hist.name + ".log").read_text()
    assert len(hist.name) == len("20260101_120000_skills.xlsx") and hist.name[8] == "_"
    assert list(layout.in_process_dir("Skills").iterdir()) == []
    rows = query(started.audit_db, "SELECT status, actor, history_name, rows, sha256 FROM imports")
    assert rows == [("succeeded", "admin", hist.name, 2, res["sha256"])]
    kinds = [k for (k,) in query(started.audit_db, "SELECT kind FROM events ORDER BY id")]
    assert kinds[:2] == ["logon_user_created", "service_started"]
    assert [k for k in kinds if k in ("detected", "claimed", "started", "finished")] == ["detected", "claimed", "started", "finished"]


def test_slow_chunked_write_is_taken_only_when_complete(service: ServiceProcess) -> None:
    service.args += ["--settle-ms", "600"]
    service.start()
    target = service.layout.type_dir("Skills") / "slow.txt"
    with open(target, "wb") as fh:
        fh.write("\ufeffName\n".encode())
        for i in range(15):
            fh.write(f"skill {i}\n".encode())
            fh.flush()
            time.sleep(0.15)
    [hist] = wait_archived(service.layout, "Skills", "slow.txt")
    assert result_of(hist)["created"] == "15"


def _bad_files(folder: Path) -> dict[str, str]:
    (folder / "empty.txt").write_bytes(b"")
    write_text(folder / "header-only.txt", [["Name", "Description"]])
    (folder / "random.xlsx").write_bytes(os.urandom(3000))
    with zipfile.ZipFile(folder / "notbook.xlsx", "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    (folder / "skills.pdf").write_bytes(b"%PDF-1.4")
    write_text(folder / "nocolumn.txt", [["Description"], ["x"]])
    (folder / "badutf8.txt").write_bytes(b"\xef\xbb\xbfName\nok\n\xff\xfe broken\n")
    write_text(folder / "unknown-id.txt", [["Id", "Name"], [424242, "Ghost"], ["", "Real"]])
    return {"empty.txt": "EMPTY_FILE", "header-only.txt": "NO_ROWS", "random.xlsx": "NOT_A_WORKBOOK",
            "notbook.xlsx": "NOT_A_WORKBOOK", "skills.pdf": "UNSUPPORTED_FORMAT", "nocolumn.txt": "MISSING_COLUMN",
            "badutf8.txt": "BAD_ENCODING", "unknown-id.txt": "ROWS_REJECTED"}


def test_bad_input_is_archived_with_err_and_service_keeps_going(started: ServiceProcess, tmp_path: Path) -> None:
    layout = started.layout
    staging = tmp_path / "bad"
    staging.mkdir()
    expected = _bad_files(staging)
    for p in staging.iterdir():
        drop(p, layout.type_dir("Skills"))
    write_text(tmp_path / "unknown-col.txt", [["Name", "Colour"], ["Blue", "blue"]])
    drop(tmp_path / "unknown-col.txt", layout.type_dir("Skills"))
    for name, code in expected.items():
        [hist] = wait_archived(layout, "Skills", name)
        res = result_of(hist)
        assert res["status"] == ("partial" if code == "ROWS_REJECTED" else "failed"), name
        assert hist.with_name(hist.name + ".err").read_text() == code + "\n", name
        log = hist.with_name(hist.name + ".log").read_text()
        assert "Traceback" not in log and ("ERROR" in log or "REJECT" in log), name
    [ok] = wait_archived(layout, "Skills", "unknown-col.txt")
    assert result_of(ok)["status"] == "succeeded"
    assert "unknown column 'Colour' ignored" in ok.with_name(ok.name + ".log").read_text()
    assert started.proc is not None and started.proc.poll() is None
    assert query(started.store_address, "SELECT name FROM skills ORDER BY name") == [("Blue",), ("Real",)]


def test_not_supported_types_fail_clearly_never_silently(started: ServiceProcess, tmp_path: Path) -> None:
    # every folder answers: a file in any type folder ends in History with a status
    layout = started.layout
    write_text(tmp_path / "p.txt", [["Name", "Status"], ["Lunch", "Away"]])
    drop(tmp_path / "p.txt", layout.type_dir("Presence"))
    [hist] = wait_archived(layout, "Presence", "p.txt")
    assert result_of(hist)["status"] in ("succeeded", "failed")


def test_deleted_folders_are_recreated(started: ServiceProcess) -> None:
    import shutil

    shutil.rmtree(started.layout.type_dir("Calendar"))
    wait_for(lambda: started.layout.history_dir("Calendar").is_dir(), 10, what="Calendar re-created")
    # the folder comes back first, its audit event right after it
    wait_for(lambda: query(started.audit_db, "SELECT COUNT(*) FROM events WHERE kind = 'folders_recreated'")[0][0] >= 1,
             10, what="folders_recreated event")


def test_disabled_watches_nothing_and_stays_up(service: ServiceProcess, tmp_path: Path) -> None:
    service.args.append("--disabled")
    service.start()
    assert "automatic import is disabled" in service.output()
    assert not service.layout.type_dir("Skills").exists()
    assert service.layout.export_dir.is_dir()
    assert service.proc is not None and service.proc.poll() is None
    assert service.stop() == 0
    assert "received SIGTERM" in service.output()  # it was still up: it stopped on the signal, not by itself


def test_sigterm_exits_zero_and_audits(started: ServiceProcess) -> None:
    assert started.stop() == 0
    kinds = [k for (k,) in query(started.audit_db, "SELECT kind FROM events ORDER BY id")]
    assert kinds[-1] == "service_stopped"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``aimport run`` as a process: the logon user is checked on the store as the service starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    return subprocess.run([sys.executable, "-m", "aimport", "run", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=60)


def test_logon_user_required_and_rights_checked(cli: Cli, tmp_path: Path) -> None:
    r = cli("run", "--root", "r", "--state-dir", "s", cwd=tmp_path)  # a setting refused before anything starts
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["aimport run: error: automatic import is enabled but no logon user is set (--logon-user or AIMPORT_LOGON_USER)"]
    from aimport.store.schema import open_store

    with open_store(tmp_path / "s" / "system.sqlite") as db:
        db.execute("INSERT INTO users (login, first_name, surname, rights) VALUES ('ops', 'O', 'P', '[\"ImportExport\"]')")
    r = _run("--root", "r", "--state-dir", "s", "--logon-user", "ops", cwd=tmp_path)
    assert r.returncode == 1
    assert "lacks the right ManageCampaigns" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _run("--root", "r", "--state-dir", "s", "--logon-user", "nobody", cwd=tmp_path)
    assert "does not exist" in r.stderr


def test_arrival_order_within_a_type_and_same_name_twice(started: ServiceProcess, tmp_path: Path) -> None:
    layout = started.layout
    names = []
    for i in range(4):
        p = write_text(tmp_path / f"f{i}.txt", [["Name", "Description"], ["Same", f"version {i}"]])
        os.utime(p, (time.time() - 100 + i, time.time() - 100 + i))
        names.append(p.name)
    for n in reversed(names):
        drop(tmp_path / n, layout.type_dir("Skills"))
    for n in names:
        wait_archived(layout, "Skills", n)
    order = [f for (f,) in query(started.audit_db, "SELECT file_name FROM imports ORDER BY started_at, id")]
    assert order == names
    assert query(started.store_address, "SELECT description FROM skills") == [("version 3",)]
    write_text(tmp_path / "twice.txt", [["Name"], ["T"]])
    drop(tmp_path / "twice.txt", layout.type_dir("Skills"))
    wait_archived(layout, "Skills", "twice.txt")
    write_text(tmp_path / "twice.txt", [["Name"], ["T"]])
    drop(tmp_path / "twice.txt", layout.type_dir("Skills"))
    both = wait_archived(layout, "Skills", "twice.txt", count=2)
    assert len({p.name for p in both}) == 2


def test_polling_mode_imports(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--poll", "--poll-ms", "100"]
    service.start()
    assert "polling every 100 ms" in service.output()
    drop(write_text(tmp_path / "p.txt", [["Name"], ["polled"]]), service.layout.type_dir("Skills"))
    [hist] = wait_archived(service.layout, "Skills", "p.txt")
    assert result_of(hist)["status"] == "succeeded"


def test_files_dropped_while_down_are_picked_up_at_start(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    assert service.stop() == 0
    for i in range(3):
        drop(write_text(tmp_path / f"offline{i}.txt", [["Name"], [f"o{i}"]]), service.layout.type_dir("Skills"))
    service.start()
    for i in range(3):
        wait_archived(service.layout, "Skills", f"offline{i}.txt")
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(3,)]
