"""--log-format json: one JSON object per line with time, level, event and the import's fields."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import ServiceProcess, drop, wait_archived, write_text


def test_json_logs(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--log-format", "json"]
    service.env["AIMPORT_CONFIG"] = ""
    service.start()
    drop(write_text(tmp_path / "j.txt", [["Name"], ["a"]]), service.layout.type_dir("Skills"))
    wait_archived(service.layout, "Skills", "j.txt")
    service.stop()
    lines = [json.loads(line) for line in service.output().splitlines() if line.strip()]
    assert all({"time", "level", "event"} <= set(x) for x in lines)
    done = [x for x in lines if x.get("status") == "succeeded"]
    assert done and done[0]["type"] == "Skills" and done[0]["file"] == "j.txt" and isinstance(done[0]["import_id"], int)
    assert any(x["event"].startswith("importing j.txt") for x in lines)
    assert not any("password" in json.dumps(x).lower() for x in lines)


def test_text_logs_are_for_humans(started: ServiceProcess) -> None:
    first = started.output().splitlines()[0]
    assert " INFO    aimport started: root " in first and not first.startswith("{")
