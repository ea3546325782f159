"""The documentation: generated reference pages match the code, the site builds, error codes are declared once."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimport import docsgen
from aimport.errors import BY_CODE, ERROR_CODES

REPO = Path(__file__).resolve().parent.parent


def test_generated_reference_pages_are_up_to_date() -> None:
    assert docsgen.stale() == [], "run scripts/gen_docs and commit docs/reference/"


def test_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    out = tmp_path / "reference"
    assert docsgen.main(["--out", str(out)]) == 0
    assert docsgen.main(["--check", "--out", str(out)]) == 0
    (out / "settings.md").write_text("# Settings\n\nwritten by hand\n")
    r = subprocess.run([sys.executable, "-m", "aimport.docsgen", "--check", "--out", str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "settings.md" in r.stderr


def test_every_setting_has_a_meaning() -> None:
    from dataclasses import fields

    from aimport.settings import SETTING_DOCS, Settings

    assert {f.name for f in fields(Settings)} - {"config"} == set(SETTING_DOCS)


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
    assert len(text) <= 8000
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
