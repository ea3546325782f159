"""A file still being written after its claim is never committed half-written (issue 12.1).

The real service as a subprocess; real writers that pause longer than the settle time. The
import must hold every row exactly once, and the ``.result`` sha256 must be the hash of the
archived file (the bytes that were imported).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import query, result_of, wait_for
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e
ROWS = 5000


def _rows_text(start: int, stop: int) -> bytes:
    return "".join(f"E{i}\tLast {i}\r\n" for i in range(start, stop)).encode()


def _slow_write(path: Path, chunks: list[bytes], pause_s: float) -> None:
    """One writer, file kept open, pausing between chunks (a slow network copy)."""
    with open(path, "wb") as fh:
        for i, chunk in enumerate(chunks):
            if i:
                time.sleep(pause_s)
            fh.write(chunk)
            fh.flush()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_imported_whole(service: ServiceProcess, name: str) -> dict[str, str]:
    [hist] = service.wait_done("Directory", name, timeout=90)
    res = result_of(hist)
    assert (res["status"], res["rows"], res["created"]) == ("succeeded", str(ROWS), str(ROWS)), res
    assert res["sha256"] == _sha256(hist), "the .result sha256 is not the hash of the archived file"
    assert query(service.store_address, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(ROWS, ROWS)]
    assert query(service.store_address, "SELECT COUNT(*) FROM directory_entries WHERE last_name IS NULL OR last_name = ''") == [(0,)]
    changed = [json.loads(d) for (d,) in query(service.audit_db, "SELECT detail FROM events WHERE kind = 'file_changed'")]
    assert changed and all(c["file"] == name for c in changed)
    assert "changed after it was claimed" in hist.with_name(hist.name + ".log").read_text(encoding="utf-8")
    return res


@pytest.mark.parametrize("chunking", ["rows", "bytes"])
def test_slow_writer_pausing_longer_than_settle(service: ServiceProcess, chunking: str) -> None:
    """Settle 300 ms, 1,000 rows every 400 ms (or byte-sized chunks that cut rows in half)."""
    service.args += ["--settle-ms", "300"]
    service.start()
    data = b"\xef\xbb\xbfExternalId\tLastName\r\n" + _rows_text(0, ROWS)
    if chunking == "rows":
        chunks = [b"\xef\xbb\xbfExternalId\tLastName\r\n" + _rows_text(0, 1000)]
        chunks += [_rows_text(k, k + 1000) for k in range(1000, ROWS, 1000)]
    else:
        size = len(data) // 5 + 7  # never on a line end: a row is cut in half at every pause
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert b"".join(chunks) == data
    _slow_write(service.layout.type_dir("Directory") / "slow.txt", chunks, 0.4)
    _check_imported_whole(service, "slow.txt")


def test_writer_the_lease_cannot_see_changes_the_file_during_the_import(service: ServiceProcess) -> None:
    """A change the open-writer check cannot see (a writer on another host): the identity check before COMMIT rolls back."""
    service.args += ["--settle-ms", "300"]
    service.env["AIMPORT_PAUSE"] = "before_commit:1500"  # the import waits just before its commit check
    service.start()
    first = b"\xef\xbb\xbfExternalId\tLastName\r\n" + _rows_text(0, 2000)
    path = service.layout.type_dir("Directory") / "grows.txt"
    path.write_bytes(first)  # written and closed: it is claimed once settled
    claimed = service.layout.in_process_dir("Directory") / "grows.txt"
    wait_for(lambda: _write_turn_taken(service.store_address), 30, what="the import holding the store's write turn")
    with open(claimed, "ab") as fh:  # the rest arrives while the import runs (reopened each time: no open writer)
        fh.write(_rows_text(2000, ROWS))
    del service.env["AIMPORT_PAUSE"]
    _check_imported_whole(service, "grows.txt")


def test_recovered_file_still_being_written(service: ServiceProcess) -> None:
    """Killed mid-import while the writer goes on: after the restart the file is imported whole, once."""
    service.args += ["--settle-ms", "300"]
    service.env["AIMPORT_FAULT"] = "mid_transaction"
    service.start()
    path = service.layout.type_dir("Directory") / "crash.txt"
    head = b"\xef\xbb\xbfExternalId\tLastName\r\n" + _rows_text(0, 1000)
    path.write_bytes(head)
    assert service.wait_exit(60) == -9
    claimed = service.layout.in_process_dir("Directory") / "crash.txt"
    del service.env["AIMPORT_FAULT"]
    writer = threading.Thread(target=_append_slowly, args=(claimed, 0.5))
    writer.start()
    service.start()
    writer.join()
    [hist] = service.wait_done("Directory", "crash.txt", timeout=90)
    res = result_of(hist)
    assert (res["status"], res["rows"]) == ("succeeded", str(ROWS)), res
    assert res["sha256"] == _sha256(hist)
    assert query(service.store_address, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM directory_entries") == [(ROWS, ROWS)]


def _write_turn_taken(store_address: Path) -> bool:
    """True while an import holds the store's write turn (it is between reading and COMMIT)."""
    lock = store_address.with_name(store_address.name + ".lock")
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _append_slowly(path: Path, pause_s: float) -> None:
    with open(path, "ab") as fh:
        for k in range(1000, ROWS, 1000):
            time.sleep(pause_s)
            fh.write(_rows_text(k, k + 1000))
            fh.flush()
            os.fsync(fh.fileno())
