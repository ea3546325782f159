"""A claimed file rewritten in place with its size and mtime put back (a misbehaving sync tool) is never
imported as a mix, nor ``succeeded`` with content other than the archived file's (issue 26.10).

The ``.result`` sha256 is the hash of exactly the bytes imported: the file's status change time (which no
tool can put back) is part of its identity, and the worker hashes the file again before COMMIT.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from aimport.importing import filestate
from aimport.importing.outcome import ImportRequest
from aimport.importing.run import run_import
from aimport.store.schema import open_store
from tests.helpers import query, result_of, wait_for
from tests.serviceprocess import ServiceProcess
from tests.test_file_changes import _write_turn_taken


def _content(word: str, rows: int) -> bytes:
    """``Old`` and ``New`` rows have the same length: a rewrite keeps the size."""
    return b"\xef\xbb\xbfExternalId\tLastName\r\n" + "".join(f"E{i}\t{word} {i}\r\n" for i in range(rows)).encode()


def _rewrite_in_place(path: Path, data: bytes) -> None:
    """What the sync tool does: the same file (inode), new bytes, the old size and mtime put back."""
    st = os.stat(path)
    assert len(data) == st.st_size
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)


def test_the_identity_sees_a_rewrite_that_put_size_and_mtime_back(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(_content("Old", 10))
    before = filestate.identity(path)
    time.sleep(0.02)  # a later clock tick than the write above
    _rewrite_in_place(path, _content("New", 10))
    assert filestate.check(path, before, writers=False).reason


def test_content_other_than_the_hashed_bytes_is_never_committed(tmp_path: Path) -> None:
    """Even a rewrite the identity cannot see (within the same clock tick) is caught: the worker hashes the file
    again before COMMIT, and a file whose bytes are not the ones hashed rolls back as FILE_CHANGED."""
    path = tmp_path / "Directory.txt"
    path.write_bytes(_content("New", 50))
    store = tmp_path / "system.sqlite"
    open_store(store).close()
    old_hash = hashlib.sha256(_content("Old", 50)).hexdigest()  # what was hashed before the rewrite
    out = run_import(ImportRequest(path=path, import_type="Directory", import_key="k", store_address=store,
                                   work_dir=tmp_path / "work", actor="admin", expect=filestate.identity(path),
                                   sha256=old_hash))
    assert (out.status, out.error_code) == ("failed", "FILE_CHANGED")
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*) FROM directory_entries").fetchone() == (0,)




def _check(service: ServiceProcess, name: str, rows: int) -> None:
    [hist] = service.wait_done("Directory", name, timeout=120)
    res = result_of(hist)
    assert hist.read_bytes() == _content("New", rows)
    assert (res["status"], res["rows"]) == ("succeeded", str(rows)), res
    assert res["sha256"] == hashlib.sha256(hist.read_bytes()).hexdigest(), "the .result sha256 is not the archived file's"
    assert query(service.store_address, "SELECT COUNT(*) FROM directory_entries WHERE last_name LIKE 'Old %'") == [(0,)]
    assert query(service.store_address, "SELECT COUNT(*) FROM directory_entries WHERE last_name LIKE 'New %'") == [(rows,)]
    changed = [json.loads(d) for (d,) in query(service.audit_db, "SELECT detail FROM events WHERE kind = 'file_changed'")]
    assert changed and all(c["file"] == name for c in changed)


@pytest.mark.e2e
def test_a_rewrite_in_place_before_commit_is_imported_again(service: ServiceProcess) -> None:
    service.env["AIMPORT_PAUSE"] = "before_commit:2000"  # the import waits just before its COMMIT check
    service.start()
    rows = 2000
    (service.layout.type_dir("Directory") / "sync.txt").write_bytes(_content("Old", rows))
    claimed = service.layout.in_process_dir("Directory") / "sync.txt"
    assert isinstance(service.store_address, Path)
    wait_for(lambda: _write_turn_taken(service.store_address), 30, interval=0.01,  # type: ignore[arg-type]
             what="the import holding the store's write turn")
    _rewrite_in_place(claimed, _content("New", rows))
    _check(service, "sync.txt", rows)


@pytest.mark.e2e
def test_a_rewrite_in_place_while_the_file_is_read_is_not_a_mix(service: ServiceProcess) -> None:
    service.start()
    rows = 200_000
    (service.layout.type_dir("Directory") / "mix.txt").write_bytes(_content("Old", rows))
    claimed = service.layout.in_process_dir("Directory") / "mix.txt"
    work = service.state / "work"

    def reading() -> bool:
        for p in work.glob("progress-*.json"):
            try:
                progress = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            if progress["phase"].startswith("reading") and 0 < progress["rows"] < rows // 2:
                return True
        return False

    wait_for(reading, 60, interval=0.005, what="mix.txt being read")
    writer = threading.Thread(target=_rewrite_in_place, args=(claimed, _content("New", rows)))
    writer.start()
    writer.join()
    _check(service, "mix.txt", rows)
