"""The README's and the tutorial pages' shell commands work as written, on a copy of the repository.

Every ```sh block in the README and in the docs' tutorial pages carries a marker on the line before it:
``<!-- test: NAME -->`` (this file runs the block, by that name) or ``<!-- not-run: reason -->``.
The blocks run with bash in a temporary copy of the repository whose ``.venv`` is this test's venv, with
no AIMPORT_* variables set: exactly what a newcomer types after ``scripts/run`` created the venv.
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

from tests.helpers import result_of, wait_for
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parent.parent
TUTORIAL_PAGES = ["README.md", "docs/index.md", "docs/getting-started.md"]
MARKER = re.compile(r"<!-- (test|not-run): ?(.*?) -->\n```(?:sh|bash|console)\n(.*?)```", re.S)
BLOCK = re.compile(r"```(?:sh|bash|console)\n", re.S)
HOST = __import__("socket").gethostname().split(".")[0] or "localhost"


def blocks(page: str) -> dict[str, str]:
    """name -> shell text of the blocks marked ``<!-- test: name -->`` on ``page``."""
    text = (REPO / page).read_text(encoding="utf-8")
    return {m.group(2).strip(): m.group(3) for m in MARKER.finditer(text) if m.group(1) == "test"}


def test_every_shell_block_is_run_or_says_why_not() -> None:
    names: list[str] = []
    for page in TUTORIAL_PAGES:
        text = (REPO / page).read_text(encoding="utf-8")
        marked = [m for m in MARKER.finditer(text)]
        assert len(marked) == len(BLOCK.findall(text)), f"{page}: a shell block without <!-- test: --> or <!-- not-run: -->"
        for m in marked:
            assert m.group(2).strip(), f"{page}: a marker without a name or a reason"
            if m.group(1) == "test":
                names.append(m.group(2).strip())
    source = Path(__file__).read_text(encoding="utf-8")
    for name in names:  # each named block is run by a test below, which looks it up as blocks(...)["name"]
        assert f'["{name}"]' in source, f"no test runs the block {name!r}"


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A copy of the repository as a fresh clone has it, with this venv as its .venv."""
    dest = tmp_path / "aimport"
    shutil.copytree(REPO, dest, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "state", "import-root", "site", "__pycache__", "*.egg-info", ".mypy_cache", "bench-work",
        ".pytest_cache"))
    venv = Path(sys.prefix)
    (dest / ".venv").symlink_to(venv)
    # scripts/_venv.sh installs when pyproject.toml is newer than its stamp; the copy must never reinstall this
    # venv from itself, so its pyproject.toml is older than any stamp (and a venv made by hand, without one,
    # gets the base stamp: aimport is installed in it, the test runs in it).
    if not list(venv.glob(".aimport-installed-*")):
        (venv / ".aimport-installed-base").touch()
    os.utime(dest / "pyproject.toml", (1, 1))
    yield dest


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}


def sh(cwd: Path, text: str, timeout: float = 120) -> str:
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=cwd, env=env(), capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"{text}\nexit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


class Background:
    """A block that starts the service (``scripts/run ...``), run as written, stopped with SIGINT like Ctrl-C."""

    def __init__(self, cwd: Path, text: str) -> None:
        self.log = cwd / f"run-{os.getpid()}-{id(self)}.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(["bash", "-c", "exec " + text.strip()], cwd=cwd, env=env(), stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.watching, 60, what=f"`{text.strip()}` to start")

    def watching(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"exited {self.proc.returncode}:\n{self.log.read_text()}")
        return "watching" in self.log.read_text()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            assert self.proc.wait(60) == 0
        return self.log.read_text()


def automatic(clone: Path) -> Path:
    return clone / "import-root" / f"{HOST}_VUBJS" / "Automatic"


# --- runs ---

def test_walkthrough_and_export_round_trip(clone: Path) -> None:
    """README: start, drop a file, read its .result, status/audit with no flags, export and re-import."""
    readme = blocks("README.md")
    svc = Background(clone, readme["start"])
    try:
        sh(clone, readme["walk-through-drop"])
        hist = automatic(clone) / "Skills" / "History"
        wait_for(lambda: list(hist.glob("*_skills.txt.result")), 30, what="the .result")
        out = sh(clone, readme["walk-through-look"])
        assert "status: succeeded" in out and "created: 2" in out
        assert "Skills" in out and "skills.txt" in out  # aimport status and aimport audit, no flags needed
        sh(clone, readme["export-round-trip"])
        conf = automatic(clone) / "Configuration" / "History"
        [res] = wait_for(lambda: list(conf.glob("*_config.xlsx.result")), 30, what="the re-import's .result")
        r = result_of(res.with_name(res.name.removesuffix(".result")))
        assert (r["status"], r["unchanged"], r["created"]) == ("succeeded", "2", "0"), r
    finally:
        out = svc.stop()
    assert "Traceback" not in out


def test_campaign_demo_loop_with_flags(clone: Path) -> None:
    """README: `scripts/run --demo-dialer --supervise-s 1` starts (flags reach `aimport run`, not pip), the demo
    campaign is called by the demo dialer, completes and is exported; `aimport campaign list` shows it."""
    readme = blocks("README.md")
    svc = Background(clone, readme["demo-start"])
    try:
        sh(clone, readme["demo-drop"])
        wait_for(lambda: list((automatic(clone) / "Export").glob("*_Demo campaign.xlsx")), 120, interval=0.2,
                 what="the campaign export")
        out = sh(clone, readme["demo-look"])
        assert "Demo campaign" in out and "Handled" in out
    finally:
        log = svc.stop()
    assert "SIMULATION" in log and "installing aimport" not in log


def test_getting_started_blocks(clone: Path) -> None:
    """docs/getting-started.md: templates and examples, the test command's arguments, a flag for scripts/run."""
    page = blocks("docs/getting-started.md")
    svc = Background(clone, page["start-http"])
    try:
        out = sh(clone, page["examples"])
        assert "01 UserGroup example.xlsx" in out
        for p in sorted((clone / "Examples and Templates").glob("[0-9][0-9] *")):
            folder = p.name.split(" ")[1]
            hist = automatic(clone) / folder / "History"
            wait_for(lambda hist=hist, pattern=f"*_{p.name}.result": list(hist.glob(pattern)), 60,
                     what=f"{p.name} archived")
            assert result_of(next(hist.glob(f"*_{p.name}"))) ["status"] == "succeeded"
        out = sh(clone, page["health"])
        import json
        assert json.loads(out.splitlines()[0])["status"] == "ok", out  # /healthz's JSON, however it is spaced
    finally:
        svc.stop()


# --- the CLI finds a service's root, server and unit in its state directory ---

def cli(cwd: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aimport", *args], cwd=cwd, capture_output=True, text=True,
                          env={**env(), **(extra_env or {})}, timeout=60)


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state", server="REC", unit="UNIT7").start()
    svc.stop()
    yield svc


@pytest.mark.parametrize("command", [["status", "--json"], ["audit"], ["campaign", "list"],
                                     ["export", "-o", "out.xlsx"]])
def test_state_dir_alone_is_enough(recorded: ServiceProcess, tmp_path: Path, command: list[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = cli(elsewhere, *command, "--state-dir", str(recorded.state))
    assert r.returncode == 0 and not r.stderr, r.stderr
    if command[0] == "status":
        import json
        assert json.loads(r.stdout)["root"] == str(recorded.layout.automatic)


def test_default_state_dir_in_the_current_folder(recorded: ServiceProcess, tmp_path: Path) -> None:
    """From the folder that holds ./state (the repository root after scripts/run), no flag at all."""
    r = cli(tmp_path, "status")
    assert r.returncode == 0, r.stderr
    assert f"root: {recorded.layout.automatic}" in r.stdout


def test_flags_env_and_toml_win_over_the_record(recorded: ServiceProcess, tmp_path: Path) -> None:
    import json

    def root_of(*args: str, extra_env: dict[str, str] | None = None) -> str:
        r = cli(tmp_path, "status", "--json", *args, extra_env=extra_env)
        assert r.returncode == 0, r.stderr
        return str(json.loads(r.stdout)["root"])

    rec = recorded.layout
    assert root_of() == str(rec.automatic)
    assert root_of("--server", "FLAG") == str(rec.root / "FLAG_UNIT7" / "Automatic")
    assert root_of(extra_env={"AIMPORT_UNIT": "ENV"}) == str(rec.root / "REC_ENV" / "Automatic")
    (tmp_path / "a.toml").write_text(f'root = "{tmp_path / "other"}"\n')
    assert root_of("--config", str(tmp_path / "a.toml")) == str(tmp_path / "other" / "REC_UNIT7" / "Automatic")
    assert root_of("--config", str(tmp_path / "a.toml"), extra_env={"AIMPORT_ROOT": str(tmp_path / "e")}) == \
        str(tmp_path / "e" / "REC_UNIT7" / "Automatic")


def test_record_is_written_atomically_at_start(recorded: ServiceProcess) -> None:
    import json
    record = json.loads((recorded.state / "service.json").read_text())
    assert record == {"root": str(recorded.root.absolute()), "server": "REC", "unit": "UNIT7", "store": "sqlite"}
    assert not list(recorded.state.glob(".service.json*"))
