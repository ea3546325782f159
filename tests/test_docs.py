"""The documentation: generated reference pages match the code (one section per setting and per command), the
site builds, error codes are declared once, the landing page's commands are the README's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimport.errors import BY_CODE, ERROR_CODES
from scripts import docsgen  # a developer tool: scripts/docsgen/, run by scripts/gen_docs
from scripts.docsgen import clipage, settingspage

REPO = Path(__file__).resolve().parent.parent


def test_generated_reference_pages_are_up_to_date() -> None:
    assert docsgen.stale() == [], "run scripts/gen_docs and commit docs/reference/"


def test_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    out = tmp_path / "reference"
    assert docsgen.main(["--out", str(out)]) == 0
    assert docsgen.main(["--check", "--out", str(out)]) == 0
    (out / "settings.md").write_text("# Settings\n\nwritten by hand\n")
    r = subprocess.run([sys.executable, "-m", "scripts.docsgen", "--check", "--out", str(out)], capture_output=True,
                       text=True, cwd=REPO)
    assert r.returncode == 1 and "settings.md" in r.stderr


def test_every_setting_has_a_meaning() -> None:
    from dataclasses import fields

    from aimport.settingdocs import SETTING_DOCS
    from aimport.settings import Settings

    assert {f.name for f in fields(Settings)} - {"config"} == set(SETTING_DOCS)


def test_the_generator_is_a_developer_tool_outside_the_package() -> None:
    assert not (REPO / "aimport" / "docsgen.py").exists()
    assert "-m scripts.docsgen" in (REPO / "scripts" / "gen_docs").read_text(encoding="utf-8")


def test_one_section_per_setting_with_what_a_reader_looks_up() -> None:
    from aimport.settingdocs import SETTING_DOCS
    from aimport.settings import setting_names

    page = docsgen.render(docsgen.PAGES[0])
    sections = page.split("\n## ")[1:]
    assert [s.split(" ", 1)[0] for s in sections] == setting_names()
    for name, text in zip(setting_names(), sections):
        assert text.startswith(f"{name} {{ #{name} .setting }}"), text[:80]
        for label in ("When to change it:", "Default:", "Flag:", "Environment variable:", "TOML key:"):
            assert f"- **{label}**" in text, (name, label)
        assert f"`AIMPORT_{name.upper()}`" in text and f"`{name}`" in text
        assert (SETTING_DOCS[name].when or settingspage.NO_ADVICE)[1:40] in " ".join(text.split()), name
    assert "`--max-concurrent N`" in page and "`--enabled` or `--disabled`" in page
    assert "none: environment or TOML file only" in page.split("\n## http_token ")[1].split("\n## ")[0]


def test_a_new_setting_without_advice_gets_a_generic_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are added often; the page must still build (and say so) before someone writes the advice."""
    from aimport.settingdocs import SETTING_DOCS, SettingDoc

    monkeypatch.setitem(SETTING_DOCS, "grace_s", SettingDoc("seconds running imports get to finish"))
    section = settingspage.settings_page().split("\n## grace_s ")[1].split("\n## ")[0]
    assert settingspage.sentence(settingspage.NO_ADVICE) in section


def test_one_section_per_command_with_usage_options_and_examples() -> None:
    from aimport.cli import build_parser

    page = docsgen.render(docsgen.PAGES[1])
    top = build_parser()
    paths = [(name, p) for name, p in settingspage.subparsers(top).items()]
    paths += [(f"{name} {sub}", sp) for name, p in paths for sub, sp in settingspage.subparsers(p).items()]
    for path, parser in paths:
        heading = f"aimport {path} {{ #{path.replace(' ', '-')} .command }}"
        assert heading in page, heading
        section = page.split(heading)[1].split("\n## ")[0].split("\n### ")[0]
        assert f"**Usage:** `aimport {path}" in section, path
        if not settingspage.subparsers(parser):
            assert "**Examples:**" in section and f"aimport {path}" in section.split("```sh")[1], \
                f"aimport {path}: give it examples (an 'examples: a; b' epilog, or EXAMPLES in scripts/docsgen/clipage.py)"
        for action in parser._actions:  # every option is listed, with its help
            if action.option_strings and action.dest != "help":
                assert f"- `{settingspage.flag_usage(action)}`" in section, (path, action.option_strings)
    for block in page.split("```sh\n")[1:]:  # examples fit a phone's width without scrolling
        assert all(len(line) <= clipage.EXAMPLE_WIDTH for line in block.split("```")[0].splitlines()), block


def test_landing_page_gives_the_readmes_two_commands_and_the_map() -> None:
    """docs/index.md: the README's set-up commands, the picture of a file's way, the jobs view, every section."""
    def commands(text: str) -> list[str]:
        block = text.split("```sh\n", 1)[1].split("```", 1)[0]
        return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert commands(index) == commands(readme.split("## Set up", 1)[1]) == ["scripts/run", "scripts/test"]
    assert "(file-way.svg)" in index and (REPO / "docs" / "file-way.svg").exists()
    assert "(operations/jobs-view.png)" in index
    for link in ("getting-started.md", "guide/", "operations/jobs-view.md", "operations/office-hours.md",
                 "reference/settings.md", "reference/cli.md", "design/", "development.md"):
        assert f"]({link}" in index, link


def test_every_error_code_in_the_code_is_declared() -> None:
    """Codes are spelled as strings where they are raised; each must be declared in aimport/errors.py."""
    not_codes = {"EXTERNAL_ID", "O_NOFOLLOW", "F_SETLEASE", "F_SETPIPE_SZ"}  # a header spelling and os constants
    used: set[str] = set()
    for path in (REPO / "aimport").rglob("*.py"):
        if path.name != "errors.py":
            used |= set(re.findall(r'"([A-Z]+(?:_[A-Z]+)+)"', path.read_text(encoding="utf-8")))
    constants: set[str] = set()  # module constants named in __all__ are identifiers, not codes
    for path in (REPO / "aimport").rglob("*.py"):
        constants |= set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*[:=]", path.read_text(encoding="utf-8"), re.M))
    codes = {c for c in used if not c.startswith("AIMPORT_") and c not in not_codes and c not in constants}
    assert codes - set(BY_CODE) == set(), "declare these in aimport/errors.py"
    assert len(BY_CODE) == len(ERROR_CODES)


def test_transient_codes_are_the_ones_the_service_retries() -> None:
    from aimport.importing.outcome import ImportOutcome, Status
    from aimport.service.importjob import is_transient

    retried = {e.code for e in ERROR_CODES if is_transient(ImportOutcome(Status.FAILED, e, ""))}
    assert {e.code for e in ERROR_CODES if e.transient} == retried == {"STORE_UNAVAILABLE", "DISK_FULL", "STATE_UNWRITABLE"}


def test_readme_is_short_and_links_resolve() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 8000  # bytes: the box-drawing characters count as what they weigh
    for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" not in link:
            assert (REPO / link).exists(), link


def test_site_builds_strict(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.fail("mkdocs is not installed: scripts/test installs the docs extra (pip install -e .[docs])")
    r = subprocess.run([str(mkdocs), "build", "--strict", "-q", "-d", str(tmp_path / "site")], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "reference" / "settings" / "index.html").exists()
    shutil.rmtree(tmp_path / "site")
