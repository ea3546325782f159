"""--log-format json: one JSON object per line with time, level, event and the import's fields."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import drop, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess


def test_json_logs(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--log-format", "json"]
    service.env["AIMPORT_CONFIG"] = ""
    service.start()
    drop(write_text(tmp_path / "j.txt", [["Name"], ["Zq7CellValue"]]), service.layout.type_dir("Skills"))
    drop(write_text(tmp_path / "k.txt", [["Name"], ["Zq7Rejected" * 30]]), service.layout.type_dir("Skills"))
    wait_archived(service.layout, "Skills", "j.txt")
    wait_archived(service.layout, "Skills", "k.txt")
    service.stop()
    raw = service.output()
    lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
    assert all({"time", "level", "event"} <= set(x) and x["level"] in ("info", "warning", "error") for x in lines)
    done = [x for x in lines if x.get("status") == "succeeded"]
    assert done and done[0]["type"] == "Skills" and done[0]["file"] == "j.txt" and isinstance(done[0]["import_id"], int)
    [start] = [x for x in lines if x["event"].startswith("importing j.txt")]
    assert (start["import_id"], start["type"], start["file"]) == (done[0]["import_id"], "Skills", "j.txt")
    assert any(x.get("file") == "k.txt" and x.get("status") in ("partial", "failed") for x in lines)
    assert "admin" in raw  # the logon user's name is fine
    assert "Zq7" not in raw  # file contents (cell values, rejected values) never reach the service log
    assert not any(w in raw.lower() for w in ("password", "secret", "token"))


def test_text_logs_are_for_humans(started: ServiceProcess) -> None:
    lines = started.output().splitlines()  # (the HTTP line comes first: it answers from the start)
    [first] = [line for line in lines if "aimport started" in line]
    assert " INFO    aimport started: root " in first and not any(line.startswith("{") for line in lines)


def test_a_late_heartbeat_is_logged(service: ServiceProcess) -> None:
    """A held-up event loop shows in the log (threshold --lag-warn-ms, 100 ms by default; 0 here)."""
    service.args += ["--lag-warn-ms", "0"]
    service.start()
    wait_for(lambda: "the event loop was held up for" in service.output(), timeout=10)
    service.stop()
    line = next(x for x in service.output().splitlines() if "held up" in x)
    assert " WARNING " in line and " ms " in line
