"""The bad-input corpus (fixtures/bad/cases.tsv) through the real service, plus the racy cases."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from tests.helpers import archived, drop, query, result_of, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e
BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad"


def corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_corpus_table(service: ServiceProcess, tmp_path: Path) -> None:
    cases = corpus().build(tmp_path / "corpus")
    assert len(cases) >= 25
    service.args += ["--max-unzipped-mb", "50", "--max-concurrent", "2"]
    service.start()
    for c in cases:
        drop(tmp_path / "corpus" / c["type"] / c["file"], service.layout.type_dir(c["type"]))
    problems = []
    for c in cases:
        [hist] = wait_archived(service.layout, c["type"], c["file"], timeout=90)
        res = result_of(hist)
        log = hist.with_name(hist.name + ".log").read_text()
        err = hist.with_name(hist.name + ".err")
        got = (res["status"], err.read_text().strip() if err.exists() else "")
        if got != (c["status"], c["error_code"]) or c["log_contains"] not in log or "Traceback" in log:
            problems.append((c["file"], got, log[-300:]))
        if int(res["duration_ms"]) > 10_000:
            problems.append((c["file"], "took", res["duration_ms"]))
    assert problems == []
    assert service.proc is not None and service.proc.poll() is None
    for c in cases:
        assert not (service.layout.type_dir(c["type"]) / c["file"]).exists()


def test_left_alone_symlink_directory_and_lock_files(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--rescan-s", "0.5"]
    service.start()
    folder = service.layout.type_dir("Skills")
    secret = tmp_path / "outside-secret.txt"
    write_text(secret, [["Name"], ["secret"]])
    (folder / "to-outside.txt").symlink_to(secret)
    (folder / "looks-like-a-file.xlsx").mkdir()
    left = ("~$Budget.xlsx", ".~lock.Budget.xlsx#", ".hidden.txt", "upload.part", "dl.crdownload", "x.tmp", "y.partial")
    for name in left:
        (folder / name).write_bytes(b"lock")
    drop(write_text(tmp_path / "after.txt", [["Name"], ["after"]]), folder)
    wait_archived(service.layout, "Skills", "after.txt")
    service.wait_scans(2)  # rescans (every 0.5 s) met every entry again
    assert (folder / "to-outside.txt").is_symlink() and secret.exists()
    assert (folder / "looks-like-a-file.xlsx").is_dir()
    assert all((folder / name).exists() for name in left)
    ignored = [json.loads(d)["file"] for (d,) in query(service.audit_db, "SELECT detail FROM events WHERE kind='ignored'")]
    assert ignored == ["to-outside.txt"]
    assert query(service.store_address, "SELECT name FROM skills") == [("after",)]


def test_file_deleted_between_detection_and_claim(service: ServiceProcess, tmp_path: Path) -> None:
    service.env["AIMPORT_PAUSE"] = "before_claim:1500"
    service.start()
    p = drop(write_text(tmp_path / "vanishing.txt", [["Name"], ["x"]]), service.layout.type_dir("Skills"))
    wait_for(lambda: query(service.audit_db, "SELECT 1 FROM events WHERE kind='detected'"), 10, what="detected")
    p.unlink()
    wait_for(lambda: query(service.audit_db, "SELECT detail FROM events WHERE kind='ignored'"), 10, what="ignored")
    [(detail,)] = query(service.audit_db, "SELECT detail FROM events WHERE kind='ignored'")
    assert "gone before it could be claimed" in json.loads(detail)["reason"]
    assert query(service.audit_db, "SELECT COUNT(*) FROM imports") == [(0,)]
    drop(write_text(tmp_path / "next.txt", [["Name"], ["y"]]), service.layout.type_dir("Skills"))
    wait_archived(service.layout, "Skills", "next.txt")


def test_read_only_file_is_imported_and_archived(started: ServiceProcess, tmp_path: Path) -> None:
    p = write_text(tmp_path / "readonly.txt", [["Name"], ["ro"]])
    os.chmod(p, 0o444)
    drop(p, started.layout.type_dir("Skills"))
    [hist] = wait_archived(started.layout, "Skills", "readonly.txt")
    assert result_of(hist)["status"] == "succeeded"
    assert not archived(started.layout, "Skills", "nothing-else.txt")
