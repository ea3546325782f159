import datetime as dt
import os
from pathlib import Path

from aimport.atomicfile import write_atomic
from aimport.history import history_candidates, history_stamp, move_no_clobber
from aimport.layout import IMPORT_TYPES, Layout
from aimport.service.filters import ImportFileFilter


def test_all_folders_created(tmp_path: Path) -> None:
    layout = Layout(tmp_path, "SRV", "VUBJS")
    created = layout.ensure()
    auto = tmp_path / "SRV_VUBJS" / "Automatic"
    for t in IMPORT_TYPES:
        assert (auto / t / "InProcess").is_dir() and (auto / t / "History").is_dir()
    assert (auto / "Export").is_dir()
    assert len(created) == 31
    assert layout.ensure() == []


def test_history_stamp_is_local_24h() -> None:
    at = dt.datetime(2026, 3, 4, 17, 5, 9).astimezone()
    assert history_stamp(at) == "20260304_170509"


def test_same_second_never_overwrites(tmp_path: Path) -> None:
    hist = tmp_path / "History"
    hist.mkdir()
    names = history_candidates("20260101_120000", "users.xlsx")
    moved = []
    for content in (b"first", b"second", b"third"):
        src = tmp_path / "users.xlsx"
        src.write_bytes(content)
        moved.append(move_no_clobber(src, hist, names))
    assert [p.name for p in moved] == [
        "20260101_120000_users.xlsx", "20260101_120000_users (2).xlsx", "20260101_120000_users (3).xlsx"]
    assert [p.read_bytes() for p in moved] == [b"first", b"second", b"third"]


def test_write_atomic_mode_and_content(tmp_path: Path) -> None:
    p = tmp_path / "x.result"
    write_atomic(p, "status: succeeded\n")
    assert p.read_text() == "status: succeeded\n"
    assert not (os.stat(p).st_mode & 0o022)
    assert [q.name for q in tmp_path.iterdir()] == ["x.result"]


def test_filter_rejects_temp_hidden_lock_and_symlinks(tmp_path: Path) -> None:
    f = ImportFileFilter()
    for name in ("~$users.xlsx", "a.tmp", "b.part", "c.crdownload", "d.partial", ".~lock.users.xlsx#", ".hidden.txt"):
        (tmp_path / name).write_text("x")
        assert not f.check(tmp_path / name).accept, name
    (tmp_path / "ok.xlsx").write_text("x")
    assert f.check(tmp_path / "ok.xlsx").accept
    (tmp_path / "link.xlsx").symlink_to(tmp_path / "ok.xlsx")
    assert f.check(tmp_path / "link.xlsx").reason == "symlink"
    (tmp_path / "dir.xlsx").mkdir()
    assert not f.check(tmp_path / "dir.xlsx").accept


def test_type_problems_name_the_first_folder_that_is_a_link_or_a_file(tmp_path: Path) -> None:
    """A link (out of the root, or to another place inside it) or a file at any level above InProcess/ and
    History/ is found and named, the highest first; the real folders are fine."""
    import shutil

    root = tmp_path / "root"
    layout = Layout(root, "SRV", "VUBJS")
    layout.ensure()
    assert layout.type_problems("Skills") == []
    unit = root / "SRV_VUBJS"
    for folder in (unit, layout.automatic, layout.type_dir("Skills"), layout.in_process_dir("Skills"),
                   layout.history_dir("Skills")):
        for target in (tmp_path / "outside", root / "elsewhere"):
            shutil.copytree(folder, target)
            folder.rename(tmp_path / "saved")
            folder.symlink_to(target, target_is_directory=True)
            problems = layout.type_problems("Skills")
            assert [p.folder for p in problems] == [layout.automatic if folder == unit else folder], (folder, target)
            assert "symbolic link" in problems[0].problem
            folder.unlink()
            shutil.rmtree(target)
            (tmp_path / "saved").rename(folder)
        if folder != unit:
            (tmp_path / "saved").mkdir()
            folder.rename(tmp_path / "saved" / "x")
            folder.write_text("a file in a folder's place")
            problems = layout.type_problems("Skills")
            assert [p.folder for p in problems] == [folder] and "not a folder" in problems[0].problem
            folder.unlink()
            (tmp_path / "saved" / "x").rename(folder)
            (tmp_path / "saved").rmdir()
        assert layout.type_problems("Skills") == []
