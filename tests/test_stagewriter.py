"""The staging helper process gives exactly what staging in one process gives, and fails as plainly.

Every case stages the same real file twice: all in this process, and with the helper taking over after
the first block (``HELPER_AFTER = 1``), so duplicates, rejections and Delete rows fall on both sides
of the hand-over.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aimport.importing import stagehelper, stagewriter
from tests.helpers import StoreUnderTest, stage_file, wait_for, write_text, write_xlsxwriter

ROWS = 7_000  # four blocks of 2,000 rows: one staged here, three by the helper


def _stage(tmp_path: Path, path: Path, import_type: str, helper_after: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    monkeypatch.setattr(stagewriter, "HELPER_AFTER", helper_after)
    staged = stage_file(tmp_path / f"stage-{helper_after}.sqlite", path, import_type)
    assert staged.helped == (helper_after < ROWS)
    return staged.result()


def _same(tmp_path: Path, path: Path, import_type: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    here = _stage(tmp_path, path, import_type, 10**9, monkeypatch)
    helped = _stage(tmp_path, path, import_type, 1, monkeypatch)
    assert helped == here
    return here


def _directory_rows(seed: int) -> list[list[Any]]:
    rnd = random.Random(seed)
    rows: list[list[Any]] = [["ExternalId", "FirstName", "LastName", "Phone", "Email"]]
    for i in range(ROWS):
        ext = f"E{rnd.randrange(ROWS // 2)}" if seed % 2 else f"E{i}"  # odd seeds: duplicates across blocks
        phone = "not a phone" if rnd.random() < 0.002 else f"+35840{i:07d}"
        rows.append([ext, f"F{i}", f"L{i}", phone, f"p{i}@example.com"])
    return rows


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["text", "xlsx"])
def test_directory_staged_by_the_helper_matches_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            seed: int, kind: str) -> None:
    rows = _directory_rows(seed)
    path = (write_text(tmp_path / "d.txt", rows) if kind == "text"
            else write_xlsxwriter(tmp_path / "d.xlsx", {"Directory": rows}))
    staged, lines, n, rejected, dups = _same(tmp_path, path, "Directory", monkeypatch)
    assert n == ROWS and len(staged) == n - rejected
    assert bool(dups) == bool(seed % 2)
    assert dups and max(dups) > 2_000 if seed % 2 else True  # some duplicates were found by the helper
    assert any("REJECT" in line for line in lines) or rejected == len(dups)


def test_a_type_with_two_identifications_deletes_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Queues identify by ExternalId or Name (duplicates found by query, not by the UNIQUE index), hold
    lists (Skills), and some rows delete."""
    queues = [["ExternalId", "Name", "Skills", "Priority", "Delete"]] + [
        [f"X{i}", f"Q{i % 5_000}", "a; b;c" if i % 2 else "", i % 10 + 1, "D" if i % 997 == 0 else ""]
        for i in range(ROWS)]
    _same(tmp_path, write_text(tmp_path / "q.txt", queues), "Queues", monkeypatch)
    _same(tmp_path, write_xlsxwriter(tmp_path / "q.xlsx", {"Queues": queues}), "Queues", monkeypatch)


def test_no_helper_when_the_service_has_no_core_to_spare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With as many imports running as cores (ImportRequest.stage_helper False) a large sheet stays in one process."""
    monkeypatch.setattr(stagewriter, "HELPER_AFTER", 1)
    path = write_text(tmp_path / "d.txt", _directory_rows(1))
    staged = stage_file(tmp_path / "s.sqlite", path, "Directory", helper=False)
    assert staged.read == ROWS and staged.duplicates and not staged.helped and not _helpers_of(os.getpid())


def _import(folder: Path, path: Path) -> tuple[Any, list[tuple[Any, ...]]]:
    """Import ``path`` into a store of its own in ``folder``: the outcome and the stored rows.
    (The helper killed mid-sheet: tests/test_stage_helper_killed.py.)"""
    store = StoreUnderTest(folder / "system.sqlite", folder)
    out = store.imp(path, "Directory", log=False)
    return out, store.query("SELECT external_id, first_name, phone FROM directory_entries ORDER BY external_id")


def test_a_whole_import_stores_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _directory_rows(1)
    path = write_text(tmp_path / "d.txt", rows)
    monkeypatch.setattr(stagewriter, "HELPER_AFTER", 10**9)
    (tmp_path / "a").mkdir()
    here, stored_here = _import(tmp_path / "a", path)
    monkeypatch.setattr(stagewriter, "HELPER_AFTER", 1)
    (tmp_path / "b").mkdir()
    helped, stored_helped = _import(tmp_path / "b", path)
    assert (helped.status, helped.error_code, helped.totals) == (here.status, here.error_code, here.totals)
    assert here.status == "partial" and here.totals is not None and here.totals.created > 3_000
    assert stored_helped == stored_here


def test_an_error_in_the_helper_is_raised_here_as_the_same_error(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (row_no INTEGER PRIMARY KEY, del INTEGER, v0)").connection.close()
    helper = stagehelper.StageHelper(db)
    try:
        helper.send(("begin", "t", "INSERT INTO t VALUES (?, ?, ?)", None))
        helper.send(("put", [(1, 0, "a"), (2, 0)]))  # a row of the wrong width
        helper.send(("end",))
        with pytest.raises(sqlite3.ProgrammingError, match="supplied"):
            helper.reply()
        helper.send(("begin", "t", "INSERT INTO t VALUES (?, ?, ?)", None))  # the helper goes on with the next sheet
        helper.send(("put", [(3, 0, "c")]))
        helper.send(("end",))
        assert helper.reply() == []
    finally:
        helper.close()
    assert sqlite3.connect(db).execute("SELECT row_no FROM t").fetchall() == [(3,)]


def test_the_helper_ends_with_a_killed_worker(tmp_path: Path) -> None:
    """A worker killed with SIGKILL (the service cancels, or the OOM killer) leaves no helper running."""
    db = tmp_path / "s.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (row_no INTEGER PRIMARY KEY, del INTEGER, v0)").connection.close()
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from aimport.importing.stagehelper import StageHelper
        h = StageHelper(Path({str(db)!r}))
        h.send(("begin", "t", "INSERT INTO t VALUES (?, ?, ?)", None))
        h.send(("put", [(1, 0, "a")]))
        h._proc.stdin.flush()
        print(h._proc.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert worker.stdout is not None
    helper_pid = int(worker.stdout.readline())
    assert helper_pid in _helpers_of(worker.pid)
    worker.kill()
    worker.wait()
    wait_for(lambda: not _alive(helper_pid), 20)


def _helpers_of(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return [c for c in out if b"aimport.importing.stageserver" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended (its parent is gone too)
