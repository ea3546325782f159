"""One rule for "is this the environment's fault?" (aimport.errors.cause_of): by errno and SQLite result code, never
by an error's text; a test per errno class, through the rule and through real imports.

ENOSPC and EDQUOT (full), EROFS (read-only) and EIO (an I/O error) are the environment: nothing is applied and the
service imports the file again later. EACCES and EPERM (permission denied) and ENOENT (gone) are about the file:
its import ends (FILE_UNREADABLE, or FILE_CHANGED for a file that went away). Real errors where a root test can
have the kernel give them: a read-only and a full tmpfs as the state directory's work folder, a file the import
cannot read (the worker without the capability to override permissions), a file removed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from aimport.errors import Cause, ErrorCode, cause_of, environment_trouble, state_code, store_trouble
from aimport.importing.filestate import identity
from aimport.importing.outcome import ImportRequest
from aimport.importing.run import run_import
from aimport.service.oneshot import import_one
from aimport.service.statedisk import describe
from aimport.settings import Settings
from tests.helpers import drop, query, result_of, wait_for, write_text
from tests.serviceprocess import ServiceProcess
from tests.test_service_keeps_running import fill

REPO = Path(__file__).resolve().parent.parent

# errno -> (cause, the environment's fault?, the code of an import that could not write its own files)
CLASSES = {
    errno.ENOSPC: (Cause.FULL, True, ErrorCode.DISK_FULL),
    errno.EDQUOT: (Cause.FULL, True, ErrorCode.DISK_FULL),
    errno.EROFS: (Cause.READ_ONLY, True, ErrorCode.STATE_UNWRITABLE),
    errno.EIO: (Cause.IO_ERROR, True, ErrorCode.STATE_UNWRITABLE),
    errno.EACCES: (Cause.DENIED, False, ErrorCode.STATE_UNWRITABLE),
    errno.EPERM: (Cause.DENIED, False, ErrorCode.STATE_UNWRITABLE),
    errno.ENOENT: (Cause.GONE, False, ErrorCode.STATE_UNWRITABLE),
}


@pytest.mark.parametrize("number", sorted(CLASSES), ids=lambda n: errno.errorcode[n])
def test_each_errno_class(number: int) -> None:
    cause, environment, code = CLASSES[number]
    exc = OSError(number, os.strerror(number), "/some/file")  # as the kernel reports it (OSError picks the subclass)
    assert (cause_of(exc), environment_trouble(exc), state_code(exc)) == (cause, environment, code)
    assert cause.environment is environment
    assert not store_trouble(exc)  # an OS error is never the store's SQLite code


def test_real_os_errors_are_classified_by_their_errno(tmp_path: Path) -> None:
    with pytest.raises(OSError) as gone:
        open(tmp_path / "missing.txt", "rb")  # noqa: SIM115
    assert isinstance(gone.value, FileNotFoundError) and cause_of(gone.value) is Cause.GONE
    with pytest.raises(OSError) as not_dir:
        os.listdir(write_text(tmp_path / "f.txt", [["x"]]))
    assert (cause_of(not_dir.value), environment_trouble(not_dir.value)) == (Cause.OTHER, False)


def test_the_text_of_an_error_never_decides() -> None:
    """The message says "disk full", the errno says otherwise: the errno wins (and the other way round)."""
    assert cause_of(OSError(errno.EACCES, "database or disk is full")) is Cause.DENIED
    assert cause_of(OSError(errno.ENOSPC, "something else entirely")) is Cause.FULL
    assert describe(OSError(errno.ENOSPC, "something else entirely")).startswith("the state disk is full")
    assert describe(OSError(errno.EIO, "No space left on device")).startswith("the state disk cannot be written")
    assert cause_of(OSError("No space left on device")) is Cause.OTHER  # no errno at all
    assert not environment_trouble(sqlite3.OperationalError("database or disk is full"))  # no result code
    assert not environment_trouble(ValueError("disk I/O error"))


def test_real_sqlite_errors_are_classified_by_their_result_code(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.commit()
    conn.execute("PRAGMA max_page_count = 2")  # the database's own limit: SQLite says SQLITE_FULL, as on a full disk
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    assert full.value.sqlite_errorcode == sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert (cause_of(full.value), store_trouble(full.value)) == (Cause.FULL, True)
    conn.close()
    read_only = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as ro:
        read_only.execute("INSERT INTO t VALUES ('y')")
    assert (cause_of(ro.value), environment_trouble(ro.value)) == (Cause.READ_ONLY, True)
    with pytest.raises(sqlite3.OperationalError) as bad:
        read_only.execute("SELECT * FROM no_such_table")
    assert (cause_of(bad.value), environment_trouble(bad.value)) == (Cause.OTHER, False)
    read_only.close()


# --- through real imports ------------------------------------------------------------------------------------


def _mount(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")


def _fill(disk: Path) -> None:
    fill(disk)


@pytest.fixture
def work_disk(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs as the state directory's work folder (the import's log and scratch files)."""
    where = tmp_path / "state" / "work"
    _mount(where, "size=2m")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _foreground(tmp_path: Path, name: str) -> tuple[Settings, Path]:
    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin")
    settings.layout.ensure()
    return settings, write_text(tmp_path / name, [["Name"], ["a"], ["b"]])


def test_a_read_only_state_disk_is_the_environment(work_disk: Path, tmp_path: Path) -> None:
    """EROFS (real: the work folder is a read-only mount): nothing applied, a retried code, not the file's fault."""
    subprocess.run(["mount", "-o", "remount,ro", str(work_disk)], check=True)
    settings, src = _foreground(tmp_path, "ro.txt")
    out = anyio.run(import_one, settings, src, "Skills")
    assert (out.outcome.status, out.outcome.error_code) == ("failed", ErrorCode.STATE_UNWRITABLE)
    assert out.outcome.transient and "Read-only file system" in out.outcome.error
    assert result_of(out.history)["error_code"] == "STATE_UNWRITABLE"
    assert query(settings.store_address, "SELECT COUNT(*) FROM skills") == [(0,)]


def test_a_full_state_disk_is_the_environment(work_disk: Path, tmp_path: Path) -> None:
    """ENOSPC (real: the work folder is a full tmpfs): nothing applied, a retried code, not the file's fault."""
    _fill(work_disk)
    settings, src = _foreground(tmp_path, "full.txt")
    out = anyio.run(import_one, settings, src, "Skills")
    assert out.outcome.status == "failed" and out.outcome.transient, out.outcome
    assert out.outcome.error_code is not None and out.outcome.error_code.transient
    assert query(settings.store_address, "SELECT COUNT(*) FROM skills") == [(0,)]


def test_a_file_that_cannot_be_read_is_the_files_fault(tmp_path: Path) -> None:
    """EACCES (real: mode 000, and the import runs without the capabilities that let root read it anyway)."""
    if shutil.which("setpriv") is None and os.geteuid() == 0:
        pytest.skip("needs setpriv to import as root without CAP_DAC_OVERRIDE")
    secret = write_text(tmp_path / "secret.txt", [["Name"], ["a"]])
    secret.chmod(0o000)
    code = (f"import json; from pathlib import Path; from aimport.importing.outcome import ImportRequest\n"
            f"from aimport.importing.run import run_import\nw = Path({str(tmp_path)!r})\n"
            "o = run_import(ImportRequest(path=w / 'secret.txt', import_type='Skills', import_key='k-1', "
            "store_address=w / 's.sqlite', work_dir=w, actor='admin', log_path=w / 'k-1.log'))\n"
            "print(json.dumps([o.status, o.error_code, o.transient]))")
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == ["failed", "FILE_UNREADABLE", False]
    assert "cannot be read" in (tmp_path / "k-1.log").read_text(encoding="utf-8")


def test_a_file_that_is_gone_is_the_files_fault(tmp_path: Path) -> None:
    """ENOENT (real: removed after it was claimed): the import ends for that file, nothing waits for the disk."""
    src = write_text(tmp_path / "gone.txt", [["Name"], ["a"]])
    req = ImportRequest(path=src, import_type="Skills", import_key="k-1", store_address=tmp_path / "s.sqlite",
                        work_dir=tmp_path, actor="admin", log_path=tmp_path / "k-1.log", expect=identity(src))
    src.unlink()
    out = run_import(req)
    assert (out.status, out.error_code, out.transient) == ("failed", ErrorCode.FILE_CHANGED, False)


@pytest.mark.e2e
def test_the_service_waits_out_a_read_only_state_disk(tmp_path: Path) -> None:
    """Where it matters: the file stays in InProcess/ (import_deferred with the code) and is imported once the
    disk can be written again, without anything applied twice."""
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state")
    work = svc.state / "work"
    _mount(work, "size=2m")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(work)], check=True)
        svc.start()
        drop(write_text(tmp_path / "later.txt", [["Name"], ["a"], ["b"]]), svc.layout.type_dir("Skills"))
        deferred = lambda: [json.loads(d) for (d,) in query(  # noqa: E731
            svc.audit_db, "SELECT detail FROM events WHERE kind = 'import_deferred' ORDER BY id")]
        wait_for(deferred, 20, what="import_deferred")
        assert deferred()[0]["error_code"] == "STATE_UNWRITABLE"
        assert (svc.layout.in_process_dir("Skills") / "later.txt").exists()
        subprocess.run(["mount", "-o", "remount,rw", str(work)], check=True)
        [hist] = svc.wait_done("Skills", "later.txt", timeout=60)
        assert (result_of(hist)["status"], result_of(hist)["created"]) == ("succeeded", "2")
        assert query(svc.store_address, "SELECT COUNT(*) FROM skills") == [(2,)]
    finally:
        try:
            svc.stop(timeout=15)
        except Exception:  # noqa: BLE001 - whatever stopping hit, the process must not outlive the test
            svc.kill()
        subprocess.run(["umount", "-l", str(work)], check=False)
