"""Durability as documented: a file aimport writes is flushed, renamed into place, and then its folder is flushed, so
the new name survives a power loss; the ``.result`` (the commit marker) among them, last; the History move flushes
both folders it changes.

Observed in real runs, not mocked: ``os.fsync``, ``os.replace``, ``os.link`` and ``os.unlink`` of this process are
wrapped to note each call (then do it), and a flushed descriptor is named by ``/proc/self/fd``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from aimport import atomicfile
from aimport.history import move_no_clobber
from aimport.service.oneshot import import_one
from aimport.settings import Settings
from tests.helpers import StoreUnderTest, result_of, write_text

Step = tuple[str, str]  # ("fsync" | "fsync-dir" | "replace" | "link" | "unlink", path)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Step]:
    """The steps on paths under ``tmp_path``, in order."""
    seen: list[Step] = []

    def noted(kind: str, real: Callable[..., Any], where: Callable[..., str]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            name = where(*args)  # before the call: a flushed descriptor may be closed right after it
            out = real(*args, **kwargs)
            if name.startswith(str(tmp_path)):
                seen.append((kind, name))
            return out
        return call

    def fd_path(fd: int) -> str:
        return os.readlink(f"/proc/self/fd/{fd}")

    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: noted(
        "fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync", real_fsync, fd_path)(fd))
    monkeypatch.setattr(os, "replace", noted("replace", os.replace, lambda src, dst: os.fspath(dst)))
    monkeypatch.setattr(os, "link", noted("link", os.link, lambda src, dst: os.fspath(dst)))
    monkeypatch.setattr(os, "unlink", noted("unlink", os.unlink, lambda path, **_: os.fspath(path)))
    return seen


def after(steps: list[Step], step: Step) -> list[Step]:
    """The steps after ``step`` (which must have happened)."""
    assert step in steps, f"{step} did not happen: {steps}"
    return steps[steps.index(step) + 1:]


def test_write_atomic_flushes_the_file_then_the_folder_after_the_rename(steps: list[Step], tmp_path: Path) -> None:
    out = tmp_path / "a.txt"
    atomicfile.write_atomic(out, "text\n")
    tmp = str(atomicfile.temp_path(out))
    assert steps == [("fsync", tmp), ("replace", str(out)), ("fsync-dir", str(tmp_path))]
    assert out.read_text() == "text\n" and stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_file_worth_nothing_after_a_crash_is_not_flushed(steps: list[Step], tmp_path: Path) -> None:
    atomicfile.write_atomic(tmp_path / "progress.json", "{}", durable=False)
    assert [k for k, _ in steps] == ["replace"]


def test_the_history_move_flushes_both_folders(steps: list[Step], tmp_path: Path) -> None:
    src_dir, dest_dir = tmp_path / "InProcess", tmp_path / "History"
    src_dir.mkdir()
    dest_dir.mkdir()
    src = write_text(src_dir / "f.txt", [["Name"], ["a"]])
    dest = move_no_clobber(src, dest_dir, ["20260101_000000_f.txt"])
    assert steps == [("link", str(dest)), ("fsync-dir", str(dest_dir)), ("unlink", str(src)),
                     ("fsync-dir", str(src_dir))]


def test_a_real_import_makes_the_result_durable_last(steps: list[Step], tmp_path: Path) -> None:
    """``aimport import`` (the service's claim, run and archive, in this process): every side file is flushed and
    renamed with its folder flushed after it; the .result comes last, and its folder is flushed after its rename."""
    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin")
    settings.layout.ensure()
    src = write_text(settings.layout.type_dir("Skills") / "skills.txt", [["Name"], ["Sales"], ["Support"]])
    out = anyio.run(import_one, settings, src, "Skills")
    assert result_of(out.history)["status"] == "succeeded"
    history, in_process = str(settings.layout.history_dir("Skills")), str(settings.layout.in_process_dir("Skills"))
    hist = str(out.history)
    # the move: the History name is flushed before the InProcess/ name goes, and that is flushed too
    rest = after(steps, ("link", hist))
    assert rest[:3] == [("fsync-dir", history), ("unlink", f"{in_process}/skills.txt"), ("fsync-dir", in_process)]
    # each side file: its temp file flushed, renamed, the folder flushed; the .result last
    for ext in (".log", ".err", ".result"):
        if ext == ".err":
            continue  # succeeded: no .err
        target = hist + ext
        tmp = str(atomicfile.temp_path(Path(target)))
        rest = after(steps, ("replace", target))
        assert steps[steps.index(("replace", target)) - 1] == ("fsync", tmp)
        assert rest[0] == ("fsync-dir", history)
    replaced = [p for k, p in steps if k == "replace" and p.startswith(hist)]
    assert replaced == [hist + ".log", hist + ".result"]
    # the claim records (before the rename into InProcess/, and with the import key) are durable too
    claims = str(settings.state_dir / "claims")
    records = [i for i, (k, p) in enumerate(steps) if k == "replace" and p.startswith(claims + "/")]
    assert len(records) >= 1 and all(steps[i + 1] == ("fsync-dir", claims) for i in records)


def test_a_failed_import_writes_its_err_durably_before_the_result(steps: list[Step], tmp_path: Path) -> None:
    settings = Settings(root=tmp_path / "root", state_dir=tmp_path / "state", logon_user="admin")
    settings.layout.ensure()
    src = write_text(settings.layout.type_dir("Skills") / "bad.txt", [["Nothing"], ["a"]])
    out = anyio.run(import_one, settings, src, "Skills")
    hist = str(out.history)
    replaced = [p for k, p in steps if k == "replace" and p.startswith(hist)]
    assert replaced == [hist + ".log", hist + ".err", hist + ".result"]
    for target in replaced:
        assert after(steps, ("replace", target))[0] == ("fsync-dir", str(Path(hist).parent))


def test_a_campaign_export_is_durable_written_or_renamed_after_a_restart(steps: list[Step], store: StoreUnderTest, tmp_path: Path) -> None:
    """Written (temp file flushed, export_ready, renamed, Export/ flushed) and, after a crash between export_ready
    and the rename, renamed on the next pass with Export/ flushed again."""
    from aimport.campaigns import results
    from aimport.campaigns.supervisor import acknowledge, tick
    from aimport.store.schema import open_store
    from tests.campaign_helpers import campaign_file, with_script

    with_script(store)
    for name in ("Alpha", "Beta"):
        assert store.imp(campaign_file(tmp_path / f"{name}.xlsx", 2, {"Script": "Survey"}), "OutboundCampaign").status == "succeeded"
    address, export_dir = store.address, tmp_path / "Export"

    def one_pass() -> list[Any]:
        events = tick(address, export_dir)
        acknowledge(address, [e.ack for e in events if e.ack])
        return [e for e in events if e.kind == "campaign_exported"]

    one_pass()
    with open_store(address) as db:
        results.close(db, "Alpha")
    [written] = one_pass()
    out = export_dir / written.detail["file"]
    assert written.detail["how"] == "written"
    assert after(steps, ("replace", str(out)))[0] == ("fsync-dir", str(export_dir))
    assert steps[steps.index(("replace", str(out))) - 1] == ("fsync", str(atomicfile.temp_path(out)))
    with open_store(address) as db:  # Beta: as a crash between export_ready and the rename leaves it
        results.close(db, "Beta")
        name = "20260101_000000_Beta.xlsx"
        db.execute("UPDATE campaigns SET export_name = ?, export_ready = 1, completion_announced = 1 "
                   "WHERE name = 'Beta'", (name,))
    atomicfile.temp_path(export_dir / name).write_bytes(out.read_bytes())
    steps.clear()
    [renamed] = one_pass()
    assert renamed.detail["how"] == "renamed"
    assert steps[-2:] == [("replace", str(export_dir / name)), ("fsync-dir", str(export_dir))]
