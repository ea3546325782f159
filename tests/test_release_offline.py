"""``aimport release`` while the service is stopped (issue 26.9): the CLI says when it takes effect, and the
next start writes ``hold_released`` (with ``requested_by``) and a log line before the file is imported."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest

from tests.helpers import Cli, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e
HOLDING = ["--rescan-s", "0.5", "--office-hours", "Mon-Sun 00:00-24:00", "--time-zone", "UTC", "--large-file-rows", "5"]


def test_release_while_the_service_is_stopped_is_an_event_at_the_next_start(service: ServiceProcess, cli: Cli,
                                                                            tmp_path: Path) -> None:
    service.args += HOLDING
    service.start()
    skills = service.layout.type_dir("Skills")
    write_text(tmp_path / "big.txt", [["Name", "Description"]] + [[f"s{i}", "x"] for i in range(20)])
    os.replace(tmp_path / "big.txt", skills / "big.txt")
    wait_for(lambda: service.events("held_for_window"), 20, what="held_for_window")
    service.stop()

    r = cli("release", "big.txt", "--state-dir", service.state, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "within a few seconds" not in r.stdout
    assert "the service is not running" in r.stdout and "when it starts" in r.stdout, r.stdout

    service.start()
    [history] = service.wait_done("Skills", "big.txt")
    assert history.with_name(history.name + ".result").read_text().startswith("status: succeeded")
    [released] = service.events("hold_released")
    assert (released["file"], released["reason"], released["requested_by"]) == ("big.txt", "operator", getpass.getuser())
    assert "releasing the held file big.txt (operator" in service.output()
    assert len(service.events("held_for_window")) == 1  # not held again at the start
    assert not list((service.state / "releases").glob("*.json"))


def test_release_says_when_a_running_service_takes_it(service: ServiceProcess, cli: Cli, tmp_path: Path) -> None:
    service.args += HOLDING
    service.start()
    skills = service.layout.type_dir("Skills")
    write_text(tmp_path / "big.txt", [["Name", "Description"]] + [[f"s{i}", "x"] for i in range(20)])
    os.replace(tmp_path / "big.txt", skills / "big.txt")
    wait_for(lambda: len(service.events("held_for_window")) == 1, 20, what="held_for_window")
    r = cli("release", "big.txt", "--state-dir", service.state, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert service.proc is not None
    assert f"the service (pid {service.proc.pid}) claims and imports it at its next folder check (within 2 seconds)" \
        in r.stdout, r.stdout
    service.wait_done("Skills", "big.txt")
