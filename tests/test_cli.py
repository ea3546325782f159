"""The command line: --help everywhere, one-line errors, check and import in the foreground (in-process: the
``cli`` fixture; tests/test_python_m.py runs the real entry point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Cli, query, write_openpyxl, write_text

COMMANDS = ["run", "import", "check", "template", "export", "audit", "status", "campaign"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: Cli, command: str) -> None:
    r = cli(command, "--help")
    assert r.returncode == 0 and "usage: aimport " + command in r.stdout


def test_top_level_help_lists_commands(cli: Cli) -> None:
    r = cli("--help")
    for c in COMMANDS:
        assert c in r.stdout


def test_errors_are_one_line_without_traceback(cli: Cli, tmp_path: Path) -> None:
    r = cli("check", str(tmp_path / "missing.xlsx"), "--type", "Skills")
    assert r.returncode == 1 and r.stderr.strip() == f"aimport check: error: no such file: {tmp_path / 'missing.xlsx'}"
    f = write_text(tmp_path / "x.txt", [["Name"], ["a"]])
    r = cli("check", str(f), "--type", "Nonsense", "--state-dir", str(tmp_path / "s"))
    assert r.returncode == 2 and "unknown import type 'Nonsense'" in r.stderr and "Traceback" not in r.stderr
    r = cli("audit", "--state-dir", str(tmp_path / "nowhere"))
    assert r.returncode == 1 and "no audit trail" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_check_prints_what_would_change_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    f = write_openpyxl(tmp_path / "skills.xlsx", {"Skills": [["Name"], ["a"], ["b"], [""]]})
    r = cli("check", str(f), "--type", "skills", "--state-dir", str(tmp_path / "s"), "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["status"] == "succeeded" and out["totals"]["created"] == 2
    assert query(tmp_path / "s" / "system.sqlite", "SELECT COUNT(*) FROM skills") == [(0,)]
    r = cli("check", str(f), "--type", "Skills", "--state-dir", str(tmp_path / "s"))
    assert "status: would be succeeded" in r.stdout


def test_import_in_foreground_archives_like_the_service(cli: Cli, tmp_path: Path) -> None:
    f = write_text(tmp_path / "cal.txt", [["Name", "TimeZone"], ["Main", "Europe/Helsinki"], ["Bad", "Nowhere/City"]])
    r = cli("import", str(f), "--type", "Calendar", "--root", "root", "--server", "S", "--state-dir", "st",
            "--logon-user", "admin", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "status: partial (ROWS_REJECTED)" in r.stdout
    hist = tmp_path / "root" / "S_VUBJS" / "Automatic" / "Calendar" / "History"
    names = sorted(p.name for p in hist.iterdir())
    assert [n.split("_", 2)[2] for n in names] == ["cal.rejected.txt", "cal.txt", "cal.txt.err", "cal.txt.log",
                                                   "cal.txt.result"]
    assert f"rejected rows: {hist / names[0]}" in r.stdout  # the row to correct, and where it is
    assert f.exists()  # a file outside the drop folder is copied, the original stays
    r = cli("audit", "--state-dir", str(tmp_path / "st"), "--json")
    [row] = json.loads(r.stdout)
    assert (row["status"], row["actor"], row["created"], row["rejected"]) == ("partial", "admin", 1, 1)
    r = cli("audit", "show", str(row["id"]), "--state-dir", str(tmp_path / "st"))
    assert "claimed" in r.stdout and "finished" in r.stdout
    r = cli("status", "--root", "root", "--server", "S", "--state-dir", "st", "--json", cwd=tmp_path)
    assert json.loads(r.stdout)["items"]["calendars"] == 1
