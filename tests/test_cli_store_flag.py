"""Issue 26.13: every command that reads the system store takes ``--store`` (``export`` and ``check`` did not,
while ``export``'s own error message told the user to use it), through the shared settings flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from openpyxl import load_workbook

from aimport.cli import build_parser, main
from aimport.importing.outcome import ImportRequest
from aimport.importing.run import run_import
from tests.helpers import write_text

# the commands that read no system store: templates are written from the catalog; the audit trail is
# STATE/audit.sqlite, one per instance
NO_STORE = {"template", "audit"}


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {prefix: parser}
    out: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, sub in subs[0].choices.items():
        out |= leaf_commands(sub, (*prefix, name))
    return out


def test_every_command_that_reads_the_store_takes_store() -> None:
    commands = leaf_commands(build_parser())
    assert ("export",) in commands and ("check",) in commands and ("campaign", "list") in commands
    lacking = [" ".join(c) for c, p in commands.items()
               if c[0] not in NO_STORE and "--store" not in p._option_string_actions]
    assert lacking == []
    for c, p in commands.items():  # and the one shared meaning of the flag
        if "--store" in p._option_string_actions:
            assert "AIMPORT_STORE" in (p._option_string_actions["--store"].help or ""), c


@pytest.fixture
def pg_with_skills(pg_url: str, tmp_path: Path) -> str:
    """A PostgreSQL system store holding two skills (imported as the service would)."""
    src = write_text(tmp_path / "skills.txt", [["Name", "Description"], ["Sales", "Sells"], ["Support", "Helps"]])
    o = run_import(ImportRequest(path=src, import_type="Skills", import_key="seed", store_address=pg_url,
                                 work_dir=tmp_path / "work", actor="admin"))
    assert o.status == "succeeded"
    return pg_url


def test_export_reads_the_store_given_with_store(pg_with_skills: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no ./state here: the store is only what --store says
    out = tmp_path / "config.xlsx"
    assert main(["export", "-o", str(out), "--items", "skills", "--store", pg_with_skills,
                 "--state-dir", str(tmp_path / "state")]) == 0, capsys.readouterr().err
    rows = list(load_workbook(out, read_only=True)["Skills"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["Sales", "Support"]


def test_check_reads_the_store_given_with_store(pg_with_skills: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    again = write_text(tmp_path / "again.txt", [["Name", "Description"], ["Sales", "Sells"], ["Support", "Helps"]])
    assert main(["check", str(again), "--type", "Skills", "--store", pg_with_skills,
                 "--state-dir", str(tmp_path / "state")]) == 0
    out = capsys.readouterr().out
    line = [ln.split() for ln in out.splitlines() if ln.startswith("again")]
    assert line and line[0][-2:] == ["2", "0"], out  # unchanged 2, rejected 0: it read the PostgreSQL store
    assert not (tmp_path / "state" / "system.sqlite").exists()  # and never a SQLite store of its own


def test_export_without_a_store_names_both_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "-o", str(tmp_path / "c.xlsx"), "--state-dir", str(tmp_path / "none"),
                 "--store", "sqlite"]) == 1
    err = capsys.readouterr().err
    assert "no system store at" in err and "--state-dir" in err and "--store" in err
