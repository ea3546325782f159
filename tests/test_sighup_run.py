"""Issue 26.15: the SIGHUP example of docs/operations/tuning.md works from ``scripts/run``, for real.

The page's ``scripts/run`` blocks run as written in a copy of the repository's scripts with this test's venv:
the service started by the first block, the second sends SIGHUP from another shell, the service logs the
reload and the third finds the ``settings_reloaded`` event. Before, the page gave only an installed
service's commands (``/etc/aimport/aimport.toml``), and ``scripts/run`` has no config file to reload.
``scripts/run`` ``exec``s the service: the pid it was started with is the one that gets the signal.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "operations" / "tuning.md"
MARKER = re.compile(r"<!-- test: ([\w-]+) -->\n```sh\n(.*?)```", re.S)
RELOADED = "max concurrent imports changed from 2 to 3"


def blocks() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in MARKER.finditer(PAGE.read_text(encoding="utf-8"))}


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """What scripts/run needs of a clone: its scripts, pyproject.toml, and this venv as .venv (never reinstalled:
    the copy's pyproject.toml is older than any install stamp)."""
    dest = tmp_path / "aimport"
    shutil.copytree(REPO / "scripts", dest / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")
    os.utime(dest / "pyproject.toml", (1, 1))
    (dest / ".venv").symlink_to(Path(sys.prefix))
    yield dest


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}


def sh(cwd: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=60)


class Running:
    """A command started in the background, its output in a file."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.log = cwd / "terminal-1.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env(), stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        wait_for(lambda: text in self.output() or self.proc.poll() is not None, timeout=timeout, what=text)
        assert text in self.output(), self.output()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def test_the_tuning_page_sighup_example_from_scripts_run(clone: Path) -> None:
    page = blocks()
    service = Running(["bash", "-euo", "pipefail", "-c", page["sighup-start"]], clone)
    try:
        service.wait_for("aimport started")
        r = sh(clone, page["sighup-reload"])
        assert r.returncode == 0, r.stderr
        service.wait_for(RELOADED)
        audit = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(sh(clone, page["sighup-audit"])),
                         timeout=20, what="the settings_reloaded event")
        assert "settings_reloaded" in audit.stdout
    finally:
        code = service.stop()
    assert "Traceback" not in service.output()
    assert code == 0, service.output()


def test_scripts_run_execs_the_service_so_its_pid_gets_the_signal(clone: Path) -> None:
    (clone / "aimport.toml").write_text("max_concurrent = 2\n")
    service = Running([str(clone / "scripts" / "run"), "--config", "aimport.toml"], clone)
    try:
        service.wait_for("aimport started")
        cmdline = Path(f"/proc/{service.proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"run" in cmdline and any(part.endswith(b"/aimport") for part in cmdline), cmdline
        (clone / "aimport.toml").write_text("max_concurrent = 3\n")
        os.kill(service.proc.pid, signal.SIGHUP)
        service.wait_for(RELOADED)
    finally:
        code = service.stop()
    assert code == 0, service.output()
