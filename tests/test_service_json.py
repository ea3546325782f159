"""``STATE/service.json``: a damaged one is named with what is wrong; a deleted one is written again (issue 26.8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimport import staterecord
from tests.helpers import Cli, wait_for
from tests.serviceprocess import ServiceProcess


@pytest.mark.parametrize(("content", "problem"), [
    ('{"root": "/srv/import", "server": "SRV1", "unit": ', "not valid JSON"),
    ('{"root": 5, "server": "SRV1", "unit": ["VUBJS"]}', "root is 5; unit is [\"VUBJS\"]"),
    ('{"server": "SRV1", "unit": "VUBJS"}', "root is missing"),
    ('["/srv/import", "SRV1", "VUBJS"]', "not an object"),
    ('{"root": "/srv/import", "server": "SRV1", "unit": "VUBJS", "store": null}', "store is null"),
])
def test_a_damaged_record_is_named_with_what_is_wrong(cli: Cli, tmp_path: Path, content: str, problem: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "service.json").write_text(content)
    with pytest.raises(staterecord.RecordError, match=r"service\.json"):
        staterecord.read(state)
    r = cli("status", "--state-dir", state, cwd=tmp_path)
    assert r.returncode == 1
    assert "--root is required" not in r.stderr, r.stderr
    assert str(state / "service.json") in r.stderr and problem in r.stderr, r.stderr


def test_a_damaged_record_is_not_needed_when_flags_say_it_all(cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "service.json").write_text("{not json")
    r = cli("status", "--state-dir", state, "--root", tmp_path / "root", "--server", "S", "--unit", "U", "--store", "sqlite",
            cwd=tmp_path)
    assert "service.json" not in r.stderr, r.stderr


def test_a_missing_record_is_still_no_record(tmp_path: Path) -> None:
    assert staterecord.read(tmp_path) is None


@pytest.mark.e2e
def test_the_service_writes_its_record_again_within_a_minute(service: ServiceProcess) -> None:
    service.start()
    record = service.state / "service.json"
    first = json.loads(record.read_text())
    record.unlink()
    wait_for(record.exists, 60, interval=0.2, what="service.json written again")
    assert json.loads(record.read_text()) == first
    record.write_text("{damaged")
    wait_for(lambda: record.read_text().startswith("{\n"), 60, interval=0.2, what="a damaged service.json replaced")
    assert json.loads(record.read_text()) == first
    assert "written again" in service.output()
