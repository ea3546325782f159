"""Issue 26.13: every "state not found" error of the CLI names the state directory it tried and the three ways
to point at another (``--state-dir``, ``AIMPORT_STATE_DIR``, running from the folder holding ``state/``), in
one line made by one function (:func:`aimport.cli.common.state_not_found`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimport.cli.common import POINT_AT_STATE, state_not_found
from tests.helpers import Cli, write_text

# every command that reads what a service keeps in its state directory, given nothing but what it needs
COMMANDS = [
    ["status"],
    ["audit"],
    ["audit", "tail"],
    ["audit", "show", "1"],
    ["export", "-o", "{tmp}/c.xlsx"],
    ["campaign", "list"],
    ["campaign", "show", "Spring"],
    ["campaign", "record", "Spring", "C0", "--result", "Successful"],
    ["campaign", "close", "Spring"],
    ["campaign", "export", "Spring", "-o", "{tmp}/e.xlsx"],
    ["release", "big.xlsx"],
    ["import", "{tmp}/skills.txt", "--type", "Skills"],
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without ``state/`` as the working directory, and a file to import (``cli`` sets no AIMPORT_*)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    write_text(tmp_path / "skills.txt", [["Name"], ["Sales"]])
    return work


def _args(command: list[str], tmp_path: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp_path)) for a in command]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _says_state_not_found(line: str, tried: Path) -> None:
    assert f"the state directory {tried}" in line, line
    assert "--state-dir" in line and "AIMPORT_STATE_DIR" in line and "state/" in line, line
    assert line.endswith(POINT_AT_STATE) or POINT_AT_STATE + " " in line or POINT_AT_STATE + ";" in line, line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(a for a in c[:2] if "{" not in a and not a.startswith("-")))
def test_default_state_dir_is_named_with_the_three_ways(command: list[str], elsewhere: Path, tmp_path: Path, cli: Cli) -> None:
    r = cli(*_args(command, tmp_path))
    assert r.returncode == 1
    line = _one_line(r.stderr)
    assert line.startswith(f"aimport {command[0]}: error: "), line
    _says_state_not_found(line, elsewhere / "state")
    assert not (elsewhere / "state").exists()  # looking never creates it


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(a for a in c[:2] if "{" not in a and not a.startswith("-")))
def test_state_dir_from_a_flag_is_named(command: list[str], elsewhere: Path, tmp_path: Path, cli: Cli) -> None:
    given = tmp_path / "other-state"
    r = cli(*_args(command, tmp_path), "--state-dir", given)
    assert r.returncode == 1
    _says_state_not_found(_one_line(r.stderr), given)


def test_state_dir_from_the_environment_is_named(elsewhere: Path, cli: Cli) -> None:
    for command in (["status"], ["audit"], ["campaign", "list"]):
        r = cli(*command, env={"AIMPORT_STATE_DIR": "relative-state"})
        assert r.returncode == 1
        _says_state_not_found(_one_line(r.stderr), elsewhere / "relative-state")


def test_an_existing_state_dir_without_the_file_names_what_is_missing(elsewhere: Path, cli: Cli) -> None:
    (elsewhere / "state").mkdir()  # e.g. a service that never ran, or one on another store
    for command, missing in ((["status"], "service.json"), (["audit"], "audit.sqlite"),
                             (["export", "-o", "c.xlsx"], "system.sqlite"), (["campaign", "list"], "system.sqlite")):
        r = cli(*command)
        assert r.returncode == 1
        line = _one_line(r.stderr)
        _says_state_not_found(line, elsewhere / "state")
        assert missing in line and "does not exist" not in line, line


def test_one_function_makes_the_message(tmp_path: Path) -> None:
    error = state_not_found(tmp_path / "nowhere", "no audit trail (audit.sqlite)")
    text = str(error)
    assert error.code == 1 and "\n" not in text
    assert text.startswith(f"no audit trail (audit.sqlite) in the state directory {tmp_path / 'nowhere'}")
    assert "(it does not exist)" in text and text.endswith(POINT_AT_STATE)


def test_found_state_still_works_from_the_folder_holding_it(elsewhere: Path, cli: Cli) -> None:
    """The third way: ``aimport audit`` from the folder that holds ``state/``."""
    import anyio

    from aimport.store.audit import Audit

    async def create() -> None:
        async with Audit(elsewhere / "state" / "audit.sqlite"):
            pass

    anyio.run(create)
    r = cli("audit", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    r = cli("audit", cwd=elsewhere.parent)
    assert r.returncode == 1
    _says_state_not_found(_one_line(r.stderr), elsewhere.parent / "state")
