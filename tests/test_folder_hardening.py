"""Issue 12 (8-10): long names, symlinked folders, the one-shot import in another type's folder, a newline
in a file name, claim_failed in the log, repeated warnings rate-limited."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import anyio
import pytest

from aimport import servicelog
from aimport.history import HISTORY_NAME_MAX
from aimport.layout import Layout
from tests.helpers import Cli, StoreUnderTest, drop, query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.endswith((".log", ".result", ".err")))


def test_long_name_is_archived_under_a_shortened_name_and_the_type_goes_on(service: ServiceProcess, tmp_path: Path) -> None:
    long_name = "ä" * 118 + ".txt"  # 240 bytes: History's stamp and the side files' suffixes made it too long
    assert len(long_name.encode()) > 235
    service.start()
    skills = service.layout.type_dir("Skills")
    drop(write_text(tmp_path / long_name, [["Name"], ["long"]]), skills)
    wait_for(lambda: [e for e in service.events("detected") if e["file"] == long_name], 10, what="the long name detected")
    drop(write_text(tmp_path / "next.txt", [["Name"], ["next"]]), skills)
    service.wait_done("Skills", "next.txt")
    hist = service.layout.history_dir("Skills")
    wait_for(lambda: len([p for p in data_files(hist) if p.with_name(p.name + ".result").exists()]) == 2, 20)
    [short] = [p for p in data_files(hist) if "next" not in p.name]
    assert len(short.name.encode()) <= HISTORY_NAME_MAX and short.name.endswith(".txt") and "~" in short.name
    assert short.name[16:].startswith("ää")  # stamp, the start of the name, a short hash, the extension
    res = result_of(short)
    assert (res["status"], res["file"]) == ("succeeded", long_name)
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(2,)]
    assert not list(service.layout.in_process_dir("Skills").iterdir())
    assert service.stop() == 0  # no archive loop holding the grace period


def test_symlinked_folders_are_reported_and_never_used(service: ServiceProcess, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "hist").mkdir(parents=True)
    (outside / "queues").mkdir()
    write_text(outside / "queues" / "planted.txt", [["Name"], ["planted"]])
    lay = service.layout
    Layout(lay.root, lay.server, lay.unit).ensure()
    os.rmdir(lay.history_dir("Skills"))
    os.symlink(outside / "hist", lay.history_dir("Skills"))
    for sub in ("InProcess", "History"):
        os.rmdir(lay.type_dir("Queues") / sub)
    os.rmdir(lay.type_dir("Queues"))
    os.symlink(outside / "queues", lay.type_dir("Queues"))
    service.args += ["--rescan-s", "1"]  # every folder check (each 2 s) comes with a full scan: wait_scans sees it
    service.start()
    drop(write_text(tmp_path / "s.txt", [["Name"], ["s"]]), lay.type_dir("Skills"))
    wait_for(lambda: len(service.events("folder_unusable")) >= 2, 10, what="folder_unusable")
    drop(write_text(tmp_path / "ok.txt", [["Name"], ["ok"]]), lay.type_dir("Presence"))
    service.wait_done("Presence", "ok.txt")
    service.wait_scans(1)  # another folder check and scan: still nothing read or written through the links
    problems = {e["folder"]: e["problem"] for e in service.events("folder_unusable")}
    assert set(problems) == {str(lay.history_dir("Skills")), str(lay.type_dir("Queues"))}
    assert all("symbolic link" in p for p in problems.values())
    assert sorted(p.name for p in (outside / "hist").iterdir()) == []  # nothing written outside the root
    assert sorted(p.name for p in (outside / "queues").iterdir()) == ["planted.txt"]  # not read, nothing created
    assert (lay.type_dir("Skills") / "s.txt").exists()  # waits in its drop folder, not claimed
    assert query(service.store_address, "SELECT COUNT(*) FROM skills") == [(0,)]
    assert "cannot use the folder" in service.output() and "symbolic link" in service.output()
    os.unlink(lay.history_dir("Skills"))  # fixed: re-created, and the waiting file is taken at the next rescan
    service.stop()
    service.start()
    service.wait_done("Skills", "s.txt")
    assert sorted(p.name for p in (outside / "hist").iterdir()) == []


def test_export_into_a_symlinked_export_folder_is_refused(store: StoreUnderTest, tmp_path: Path) -> None:
    from aimport.campaigns import results
    from aimport.campaigns.supervisor import acknowledge, tick
    from aimport.store.schema import open_store
    from tests.campaign_helpers import campaign_file, with_script

    with_script(store)
    assert store.imp(campaign_file(tmp_path / "Alpha.xlsx", 2, {"Script": "Survey"}), "OutboundCampaign").status == "succeeded"
    db = store.address
    lay = Layout(tmp_path / "root", "S", "U")
    lay.automatic.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, lay.export_dir)
    acknowledge(db, [e.ack for e in tick(db, lay.export_dir) if e.ack])
    with open_store(db) as conn:
        results.close(conn, "Alpha")
    evs = tick(db, lay.export_dir)
    failed = [e for e in evs if e.kind == "campaign_export_failed"]
    assert failed and "symbolic link" in failed[0].detail["error"]
    assert list(outside.iterdir()) == []


def test_one_shot_import_refuses_a_file_in_another_types_drop_folder(cli: Cli, tmp_path: Path) -> None:
    lay = Layout(tmp_path / "root", "S", "U")
    lay.ensure()
    f = write_text(lay.type_dir("Queues") / "q.txt", [["Name"], ["x"]])
    common = ["--root", str(lay.root), "--server", "S", "--unit", "U", "--state-dir", str(tmp_path / "state"),
              "--logon-user", "admin", "--quiet"]
    r = cli("import", str(f), "--type", "Skills", *common)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "is in the Queues drop folder" in r.stderr and "twice" in r.stderr
    assert f.exists() and data_files(lay.history_dir("Skills")) == []
    # a symlinked History/ is refused too (nothing written outside the root)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rmdir(lay.history_dir("Skills"))
    os.symlink(outside, lay.history_dir("Skills"))
    g = write_text(tmp_path / "g.txt", [["Name"], ["g"]])
    r = cli("import", str(g), "--type", "Skills", *common)
    assert r.returncode != 0 and "symbolic link" in r.stderr, r.stdout + r.stderr
    assert list(outside.iterdir()) == [] and list(lay.in_process_dir("Skills").iterdir()) == []


def test_newline_in_a_file_name_keeps_the_result_one_line_per_field(started: ServiceProcess, tmp_path: Path) -> None:
    name = "two\nlines: status: failed.txt"
    drop(write_text(tmp_path / name, [["Name"], ["nl"]]), started.layout.type_dir("Skills"))
    hist = started.layout.history_dir("Skills")
    [h] = wait_for(lambda: [p for p in data_files(hist) if p.with_name(p.name + ".result").exists()], 20)
    lines = h.with_name(h.name + ".result").read_text().splitlines()
    assert "file: two\\nlines: status: failed.txt" in lines
    assert [line for line in lines if line.startswith("status")] == ["status: succeeded"]
    assert "\nlines: status" not in started.output()  # the service log is one line per entry too


def test_claim_failed_is_logged_as_well_as_audited(tmp_path: Path) -> None:
    from aimport.service.importjob import claim_and_import
    from aimport.service.jobcontext import JobContext
    from aimport.settings import Settings
    from aimport.store.audit import Audit, now_iso
    from aimport.store.auditqueries import list_events

    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin")
    lay = settings.layout
    lay.ensure()
    os.rmdir(lay.in_process_dir("Skills"))
    lay.in_process_dir("Skills").write_text("a file where InProcess/ should be")
    f = write_text(lay.type_dir("Skills") / "c.txt", [["Name"], ["c"]])
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    servicelog.get().addHandler(handler)

    async def go() -> None:
        async with Audit(settings.audit_db) as audit:
            ctx = JobContext(settings, lay, audit, "u", anyio.CapacityLimiter(1))
            await claim_and_import(ctx, f, "Skills", now_iso())

    try:
        anyio.run(go)
    finally:
        servicelog.get().removeHandler(handler)
    assert [e["kind"] for e in list_events(settings.audit_db)] == ["claim_failed"]
    assert any("cannot claim c.txt" in line and "drop folder" in line for line in lines), lines
    assert f.exists()


def test_repeated_identical_warnings_are_rate_limited(service: ServiceProcess) -> None:
    service.start()
    assert service.proc is not None
    for _ in range(300):
        service.proc.send_signal(signal.SIGHUP)
        time.sleep(0.002)
    assert service.proc.poll() is None
    # SIGTERM is handled after the SIGHUPs (one signal receiver, in order): once the service exited 0 on it,
    # every SIGHUP was handled without a stop
    assert service.stop() == 0
    assert "received SIGTERM" in service.output()
    assert service.output().count("SIGHUP: no --config file") == 1
