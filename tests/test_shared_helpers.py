"""The one implementation of each shared rule: backoff, file locks, atomic writes, work-log lines."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from aimport.atomicfile import replacing, temp_path, write_atomic, write_bytes_atomic
from aimport.filelock import held, release, try_lock
from aimport.importing import worklog
from aimport.service.backoff import Backoff

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO   |WARNING|ERROR  |REJECT ) \S.*\n$")


def test_backoff_doubles_from_one_second_to_sixty() -> None:
    b = Backoff()
    assert [b.step() for _ in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_lock_is_seen_as_held_elsewhere_until_released(tmp_path: Path) -> None:
    f = tmp_path / "claimed.txt"
    f.write_text("x")
    fd, elsewhere = try_lock(f)
    assert fd is not None and not elsewhere
    assert try_lock(f) == (None, True)  # another open file description: what another instance sees
    release(fd)
    with held(f):
        assert try_lock(f) == (None, True)
    again, _ = try_lock(f)
    assert again is not None
    release(again)
    assert try_lock(tmp_path / "gone.txt") == (None, False)


def test_atomic_writes_leave_the_old_file_or_the_whole_new_one(tmp_path: Path) -> None:
    p = tmp_path / "a.result"
    write_atomic(p, "status: succeeded\n")
    with pytest.raises(RuntimeError), replacing(p) as tmp:
        tmp.write_text("status: fail")
        raise RuntimeError("the writer failed half way")
    assert p.read_text() == "status: succeeded\n" and not temp_path(p).exists()
    write_bytes_atomic(p, b"\xef\xbb\xbfnew\r\n")
    assert p.read_bytes() == b"\xef\xbb\xbfnew\r\n" and stat.S_IMODE(p.stat().st_mode) == 0o644
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.result"]


def test_every_work_log_line_has_one_format(tmp_path: Path) -> None:
    path = worklog.work_path(tmp_path, "uuid-7")
    log = worklog.ImportLog(path)
    log.info("importing a.txt")
    log.warning("sheet 'x' was skipped")
    log.rejected("Skills", 2, "Name", "Name is mandatory")
    log.close()
    worklog.note(path, "ERROR", "the import worker process died")  # the service, after the worker
    worklog.note(None, "INFO", "nowhere")  # no work log: nothing happens
    worklog.note(tmp_path / "no" / "such.log", "INFO", "best effort")  # cannot be written: nothing raised
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 4 and all(LINE.match(x) for x in lines), lines
    assert lines[2].endswith(" REJECT  sheet 'Skills' row 2 column Name: Name is mandatory\n")
    assert LINE.match(worklog.line("INFO", "recovered after a restart: only archiving was redone"))
