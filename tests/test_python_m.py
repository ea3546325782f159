"""Issue 26.13: ``python -m aimport`` works as the documentation says.

The docs said "``.venv/bin/aimport`` (or ``python -m aimport``)"; from the repository root a ``python`` without
aimport's dependencies (the system's) found the ``aimport`` folder and ended in a traceback. The docs now give
``.venv/bin/python -m aimport``, and a Python without the dependencies gets one line saying what to run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from aimport import __version__

ROOT = Path(__file__).resolve().parent.parent
# pages that mention ``python -m aimport`` to describe how a test or a worker runs it, not as a command to type
DESCRIBING = {"docs/operations/container.md", "docs/bench/index.md"}


def test_venv_python_m_aimport_runs_the_command_line(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "aimport", "--version"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert (r.returncode, r.stdout.strip()) == (0, f"aimport {__version__}"), r.stderr


def test_a_python_without_the_dependencies_says_what_to_run() -> None:
    """``-S``: no site-packages, as the system's python3 run from the repository root (it finds ./aimport)."""
    r = subprocess.run([sys.executable, "-S", "-m", "aimport", "status"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr, r.stderr
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert ".venv/bin/aimport" in err and ".venv/bin/python -m aimport" in err and "scripts/run" in err, err


def test_the_docs_give_the_venv_python() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    bare = []
    for page in pages:
        rel = page.relative_to(ROOT).as_posix()
        for m in re.finditer(r"(\S*)python3? -m aimport\b(?!\.)", page.read_text(encoding="utf-8")):
            if not m.group(1).endswith(".venv/bin/") and rel not in DESCRIBING:
                bare.append(f"{rel}: {m.group(0)}")
    assert bare == []
    assert ".venv/bin/python -m aimport" in (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
