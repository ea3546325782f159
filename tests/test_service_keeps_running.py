"""Issue 12 (5-7): a bad file name, a folder replaced by a file, a full state disk: the real service keeps
running, keeps importing everything else, reports the trouble once, and starts with the trouble present."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import drop, free_port, query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def good(tmp_path: Path, name: str, value: str = "a") -> Path:
    return write_text(tmp_path / name, [["Name"], [value]])


def alive(svc: ServiceProcess) -> None:
    assert svc.proc is not None and svc.proc.poll() is None, f"the service stopped: {svc.output()[-3000:]}"


def test_file_name_not_utf8_is_reported_once_and_the_service_goes_on(service: ServiceProcess, tmp_path: Path) -> None:
    skills = service.layout.type_dir("Skills")
    skills.mkdir(parents=True)
    bad = os.path.join(os.fsencode(skills), b"bad\xff.txt")
    with open(bad, "wb") as fh:  # there before the start: the start-up scan meets it
        fh.write(b"Name\r\nx\r\n")
    service.args += ["--rescan-s", "1"]
    service.start()
    drop(good(tmp_path, "after.txt"), skills)
    service.wait_done("Skills", "after.txt")
    # a second bad name while running, in another folder
    with open(os.path.join(os.fsencode(service.layout.type_dir("Skills")), b"also\xfe\xff.txt"), "wb") as fh:
        fh.write(b"Name\r\ny\r\n")
    wait_for(lambda: len(service.events("ignored")) >= 2, 10, what="the second bad name reported")
    service.wait_scans(2)  # more rescans: still reported once each
    alive(service)
    ignored = service.events("ignored")
    assert sorted(e["file"] for e in ignored) == ["also\\xfe\\xff.txt", "bad\\xff.txt"]
    assert all("not valid UTF-8" in e["reason"] for e in ignored)
    assert service.output().count("ignored bad\\xff.txt: file name is not valid UTF-8") == 1
    assert os.path.exists(bad)  # left alone
    drop(good(tmp_path, "later.txt", "b"), skills)
    service.wait_done("Skills", "later.txt")
    assert service.stop() == 0
    service.start()  # a restart with the file present works
    drop(good(tmp_path, "third.txt", "c"), skills)
    service.wait_done("Skills", "third.txt")
    alive(service)


def test_folders_replaced_by_files_are_reported_and_rechecked(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    lay = service.layout
    shutil.rmtree(lay.type_dir("Queues"))
    lay.type_dir("Queues").write_text("not a folder")
    shutil.rmtree(lay.in_process_dir("Calendar"))
    lay.in_process_dir("Calendar").write_text("not a folder")
    write_text(tmp_path / "cal.txt", [["Name"], ["x"]])
    drop(tmp_path / "cal.txt", lay.type_dir("Calendar"))  # waits: its InProcess/ is a file
    wait_for(lambda: len(service.events("folder_unusable")) >= 2, 10, what="folder_unusable")
    drop(good(tmp_path, "ok.txt"), lay.type_dir("Skills"))
    service.wait_done("Skills", "ok.txt")
    alive(service)
    found = {e["folder"]: e["problem"] for e in service.events("folder_unusable")}
    assert found == {str(lay.type_dir("Queues")): "is not a folder (a file is in its place)",
                     str(lay.in_process_dir("Calendar")): "is not a folder (a file is in its place)"}
    assert (lay.type_dir("Calendar") / "cal.txt").exists()  # not claimed
    assert service.output().count(f"cannot use the folder {lay.type_dir('Queues')}: it is not a folder") == 1
    assert service.stop() == 0
    service.start()  # refused before with "[Errno 17] File exists"
    drop(good(tmp_path, "ok2.txt", "b"), lay.type_dir("Skills"))
    service.wait_done("Skills", "ok2.txt")
    lay.in_process_dir("Calendar").unlink()  # fixed: re-created at the next folder check, then the file is taken
    wait_for(lambda: lay.in_process_dir("Calendar").is_dir(), 10, what="InProcess re-created")
    wait_for(lambda: service.events("folder_usable"), 10, what="folder_usable")
    alive(service)


# --- 7: a real full disk (a small tmpfs) -----------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "state"  # the service's state folder itself (its log goes beside it, not on it)
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    fh.write(b"\1" * chunk)
            except OSError:
                pass
    return filler


def readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_state_disk_full_while_files_are_detected(small_disk: Path, tmp_path: Path) -> None:
    svc = ServiceProcess(root=tmp_path / "root", state=small_disk)
    port = free_port()
    svc.args += ["--http", str(port)]
    try:
        svc.start()
        drop(good(tmp_path, "before.txt"), svc.layout.type_dir("Skills"))
        svc.wait_done("Skills", "before.txt")
        filler = fill(small_disk)
        for i in range(5):
            drop(good(tmp_path, f"full{i}.txt", f"f{i}"), svc.layout.type_dir("Skills"))
        wait_for(lambda: "the state disk is full" in svc.output(), 20, what="the full disk reported")
        alive(svc)
        status, body = readyz(port)
        assert status == 503 and body["checks"]["state_disk"] is False, body
        assert "state disk is full" in body.get("state_disk", "")
        filler.unlink()
        for i in range(5):
            svc.wait_done("Skills", f"full{i}.txt", timeout=90)
        wait_for(lambda: readyz(port)[0] == 200, 20, what="ready again")
        assert query(svc.store_address, "SELECT COUNT(*) FROM skills") == [(6,)]
        assert [e["file"] for e in svc.events("detected")].count("full0.txt") == 1  # never written twice
        # killed while the disk is full, restarted on the full disk (exited with "disk I/O error" once): it
        # starts (a start that only reads the store writes nothing), a file dropped then waits and says why,
        # and everything goes on by itself when space is back
        drop(good(tmp_path, "during.txt", "d"), svc.layout.type_dir("Skills"))
        svc.wait_done("Skills", "during.txt")
        filler = fill(small_disk)
        svc.kill()
        seen = len(svc.output())
        svc.start(wait=False)
        drop(good(tmp_path, "full-again.txt", "g"), svc.layout.type_dir("Skills"))
        try:
            wait_for(lambda: "the state disk is full" in svc.output()[seen:], 30, what="the full disk explained")
        except AssertionError as exc:  # say what the restarted service did instead
            raise AssertionError(f"{exc}; the restarted service said:\n{svc.output()[seen:][-4000:]}") from None
        alive(svc)
        filler.unlink()
        svc.wait_ready(60)  # fails at once if the service gave up (exited) while the disk was full
        svc.wait_done("Skills", "full-again.txt", timeout=90)
        drop(good(tmp_path, "after.txt", "z"), svc.layout.type_dir("Skills"))
        [hist] = svc.wait_done("Skills", "after.txt", timeout=60)
        assert result_of(hist)["status"] == "succeeded"
    finally:
        try:
            svc.stop(timeout=15)
        except Exception:  # noqa: BLE001 - whatever stopping hit, the process must not outlive the test
            svc.kill()
