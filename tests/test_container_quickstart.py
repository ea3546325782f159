"""Issue 26.15: the container quick start works as written, checked without a Docker engine.

* Which services a ``docker compose ... up`` command starts, by the rules of Compose profiles (a service with
  profiles runs only when one is active; naming a service activates its profiles; its ``depends_on`` must
  then be enabled): ``--profile units up`` starts exactly PostgreSQL and the two unit sidecars, and every
  ``up`` command written in the docs and in compose.yaml starts what it is there for.
* The quick start of docs/operations/container.md in order on a fresh host: its commands up to ``docker
  compose up`` run as written (as root, without ``sudo``), then the image's ENTRYPOINT + CMD runs as the
  image's user (uid 10001, with the service's environment from compose.yaml) on that share and on a state
  folder made as the image makes it, and the ``ls`` of the quick start lists the drop folders, owned by
  that user. Before, the share made by ``mkdir`` belonged to the host's user and uid 10001 could not
  create the folders.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimport.layout import IMPORT_TYPES
from tests.helpers import free_port
from tests.test_dockerfile import image_env, instructions

ROOT = Path(__file__).resolve().parent.parent
UID = 10001  # the image's user (Dockerfile: USER 10001:10001)
UNITS = {"postgres", "aimport-srv1", "aimport-srv2"}
# the pages whose `docker compose ... up` commands this checks (compose.yaml's comments too)
PAGES = ["README.md", "docs/operations/container.md", "docs/operations/tuning.md"]


class NoService(Exception):
    """``docker compose up`` selected no service (Compose: "no service selected")."""


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def started(command: str) -> set[str]:
    """The services ``docker compose [--profile P]... up [FLAGS] [SERVICE]...`` starts with compose.yaml."""
    words = shlex.split(command)
    assert words[:2] == ["docker", "compose"], command
    words, profiles = words[2:], set()
    while words[0] != "up":
        flag = words.pop(0)
        assert flag == "--profile", f"{command}: option {flag} not understood"
        profiles.add(words.pop(0))
    targets = [w for w in words[1:] if not w.startswith("-")]
    services = compose()["services"]
    for t in targets:  # naming a service activates its profiles
        profiles |= set(services[t].get("profiles") or [])

    def enabled(name: str) -> bool:
        own = services[name].get("profiles")
        return not own or bool(set(own) & profiles)

    chosen = set(targets) if targets else {n for n in services if enabled(n)}
    if not chosen:
        raise NoService(command)
    todo = list(chosen)
    while todo:  # and what they depend on, which must be enabled too
        for dep in services[todo.pop()].get("depends_on") or {}:
            assert enabled(dep), f"{command}: {dep} is needed but not in an active profile"
            if dep not in chosen:
                chosen.add(dep)
                todo.append(dep)
    return chosen


def test_each_profile_starts_exactly_its_services() -> None:
    assert started("docker compose --profile units up") == UNITS
    assert started("docker compose --profile units up -d") == UNITS
    assert started("docker compose --profile units up -d aimport-srv1 aimport-srv2") == UNITS
    assert started("docker compose up -d aimport") == {"aimport"}
    assert started("docker compose --profile single up -d") == {"aimport"}
    with pytest.raises(NoService):  # nothing by accident
        started("docker compose up -d")


def documented_up_commands() -> list[tuple[str, str]]:
    """(where, command) of every ``docker compose ... up ...`` in PAGES and in compose.yaml's comments."""
    found = []
    texts = {page: (ROOT / page).read_text(encoding="utf-8") for page in PAGES}
    texts["compose.yaml"] = "\n".join(line.lstrip("# ") for line in (ROOT / "compose.yaml").read_text().splitlines()
                                      if line.lstrip().startswith("#"))
    for where, text in texts.items():
        for m in re.finditer(r"docker compose(?: --profile [\w-]+)* up\b[^`\n#]*", text):
            found.append((where, m.group(0).strip()))
    return found


def test_documented_up_commands_start_what_they_are_for() -> None:
    commands = documented_up_commands()
    assert {w for w, _ in commands} >= {"README.md", "docs/operations/container.md", "compose.yaml"}
    for where, command in commands:
        if command == "docker compose up":  # said to select no service
            with pytest.raises(NoService):
                started(command)
            continue
        expected = UNITS if "--profile units" in command else {"aimport"}
        assert started(command) == expected, f"{where}: {command}"


def quick_start() -> list[str]:
    text = (ROOT / "docs" / "operations" / "container.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- test: container-quick-start -->\n```sh\n(.*?)```", text, re.S)
    assert m, "the quick start block of container.md"
    return [line.split("  #")[0].strip() for line in m.group(1).splitlines() if line.strip()]


def test_the_quick_start_starts_the_single_sidecar_after_setting_the_share_owner() -> None:
    lines = quick_start()
    up = next(i for i, line in enumerate(lines) if line.startswith("docker compose") and " up" in line)
    assert started(lines[up]) == {"aimport"}
    assert any(re.fullmatch(rf"(sudo )?chown (-R )?{UID}:{UID} import-share", line) for line in lines[:up]), \
        "the share's owner is set before the first `up`"


def python_for(uid: int, env: dict[str, str]) -> list[str] | None:
    """A Python that ``uid`` can run with aimport and its dependencies importable, or None."""
    for exe in dict.fromkeys([sys.executable, os.path.realpath(sys.executable), "/usr/bin/python3"]):
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", exe]
        probe = f"import sys, anyio, psycopg, aimport.cli.run_cmd; assert sys.version_info[:2] == {sys.version_info[:2]}"
        r = subprocess.run([*argv, "-c", probe], env=env, cwd="/", capture_output=True, timeout=60)
        if r.returncode == 0:
            return argv
    return None


@pytest.fixture
def host() -> Iterator[Path]:
    """A fresh folder the image's user can reach (pytest's own tmp_path is private to root)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root with setpriv (util-linux): the quick start runs as the image's user")
        pytest.skip("needs root and setpriv to run the image's command as uid 10001")
    base = Path(tempfile.mkdtemp(prefix="aimport-quickstart-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.e2e
def test_quick_start_in_order_on_a_fresh_host(host: Path) -> None:
    lines = quick_start()
    up = next(i for i, line in enumerate(lines) if line.startswith("docker compose") and " up" in line)
    for line in lines[:up]:  # as written (as root, sudo is not needed)
        subprocess.run(["bash", "-euc", re.sub(r"^sudo ", "", line)], cwd=host, check=True, timeout=30)
    # `docker compose up -d aimport`: the named state volume starts as the image's folder (owned by the user)
    service = compose()["services"]["aimport"]
    mounts = dict(reversed(v.split(":")[:2]) for v in service["volumes"])
    share = host / mounts["/import"]
    state = host / "volumes" / "state"
    state.mkdir(parents=True)
    os.chown(state, UID, UID)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(state), **image_env(),
           **{k: str(v) for k, v in service["environment"].items()},
           "AIMPORT_ROOT": str(share), "AIMPORT_STATE_DIR": str(state), "AIMPORT_HTTP": f"127.0.0.1:{port}",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])}
    python = python_for(UID, env)
    if python is None:
        if os.environ.get("CI"):
            pytest.fail(f"no Python on CI that uid {UID} can run with aimport's dependencies")
        pytest.skip(f"no Python here that uid {UID} can run with aimport's dependencies")
    entry = json.loads([v for k, v in instructions() if k == "ENTRYPOINT"][-1])
    cmd = service.get("command") or json.loads([v for k, v in instructions() if k == "CMD"][-1])
    assert entry == ["aimport"]
    proc = subprocess.Popen([*python, "-m", "aimport", *cmd], env=env, cwd="/", stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        automatic = share / f"{service['environment']['AIMPORT_SERVER']}_VUBJS" / "Automatic"
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline and ready is None and proc.poll() is None:
            try:
                ready = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2))
            except OSError:  # not answering yet, or 503 while not ready
                time.sleep(0.2)
        ls = next(line for line in lines[up:] if line.startswith("ls "))
        listed = subprocess.run(["bash", "-euc", ls], cwd=host, capture_output=True, text=True, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=40)[0].decode()
    assert listed.returncode == 0, listed.stderr + out
    assert set(listed.stdout.split()) == {*IMPORT_TYPES, "Export"}, listed.stdout + out
    for d in [automatic, *automatic.iterdir(), *(automatic / "Skills").iterdir()]:
        assert (d.stat().st_uid, d.stat().st_gid) == (UID, UID), d
    assert ready is not None and ready["status"] == "ready", out
    assert proc.returncode == 0, out
