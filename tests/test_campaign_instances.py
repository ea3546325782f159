"""Several instances on one PostgreSQL store: each completed campaign is announced and exported once, also when
the instance exporting it is killed (the claim is the database's: a session advisory lock on the campaign)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from aimport.campaigns import results
from aimport.campaigns.supervisor import CampaignEvent, SupervisorPass
from aimport.store.schema import open_store
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file, with_script
from tests.helpers import Cli, StoreUnderTest, at_once, wait_for

REPO = Path(__file__).resolve().parent.parent


def completed(tmp_path: Path, url: str, names: list[str]) -> None:
    store = StoreUnderTest(url, tmp_path)
    with_script(store)
    for name in names:
        assert store.imp(campaign_file(tmp_path / f"{name}.xlsx", 3, {"Script": "Survey"}), "OutboundCampaign").status == "succeeded"
    with open_store(url) as db:
        for name in names:
            results.close(db, name)


def one_pass(url: str, export_dir: Path) -> list[CampaignEvent]:
    """A service's pass: run, record (here: keep) the events, acknowledge them, end the claims."""
    with SupervisorPass(url) as p:
        events = p.run(export_dir)
        p.acknowledge([e.ack for e in events if e.ack])
    return events


def exports(*folders: Path) -> list[Path]:
    return sorted(p for d in folders if d.is_dir() for p in d.iterdir() if p.suffix == ".xlsx")


def test_a_claimed_campaign_is_left_to_its_claimer_until_its_events_are_acknowledged(pg_url: str, tmp_path: Path) -> None:
    completed(tmp_path, pg_url, ["Alpha"])
    export_dir = tmp_path / "Export"
    first = SupervisorPass(pg_url)
    events = first.run(export_dir)
    assert [e.kind for e in events] == ["campaign_started", "campaign_completed", "campaign_exported"]
    assert one_pass(pg_url, export_dir) == []  # exported, not yet acknowledged: claimed, so another pass skips it
    first.acknowledge([e.ack for e in events if e.ack])
    first.close()
    assert one_pass(pg_url, export_dir) == []  # done, and nothing to announce again
    assert [p.name for p in exports(export_dir)] == [events[-1].detail["file"]]


def test_passes_racing_in_several_instances_export_each_campaign_once(pg_url: str, tmp_path: Path) -> None:
    """Four instances (threads, each pass on its own connection) of two units, passes back to back."""
    names = ["Alpha", "Beta", "Gamma"]
    completed(tmp_path, pg_url, names)
    folders = [tmp_path / "SRV1_VUBJS" / "Export", tmp_path / "SRV2_VUBJS" / "Export"]
    start = threading.Barrier(4)
    seen: list[CampaignEvent] = []

    def instance(k: int) -> None:
        start.wait(30)
        for _ in range(6):
            seen.extend(one_pass(pg_url, folders[k % 2]))

    at_once(instance, 4)
    assert Counter((e.kind, e.detail["campaign"]) for e in seen) == Counter(
        {(kind, n): 1 for n in names for kind in ("campaign_started", "campaign_completed", "campaign_exported")})
    files = exports(*folders)
    assert sorted(f.name.split("_", 2)[2] for f in files) == [f"{n}.xlsx" for n in names]
    assert all(e.detail["how"] == "written" and not e.detail["recovered"] for e in seen if e.kind == "campaign_exported")


def _supervisor_process(url: str, export_dir: Path, faults: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Another instance's pass in its own process (``faults``: AIMPORT_FAULT... settings for it); after the pass
    it waits, its claims held, until killed."""
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from aimport.campaigns.supervisor import SupervisorPass\n"
            "p = SupervisorPass(sys.argv[1])\n"
            "events = p.run(Path(sys.argv[2]))\n"
            "print(' '.join(e.kind for e in events), flush=True)\n"
            "time.sleep(600)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")} | (faults or {})
    return subprocess.Popen([sys.executable, "-c", code, url, str(export_dir)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, text=True)


def passes_until_exported(url: str, export_dir: Path) -> list[CampaignEvent]:
    """Passes of this instance until it has exported (the dead instance's connection, and so its claim, ends
    when the server notices the process is gone)."""
    events: list[CampaignEvent] = []
    wait_for(lambda: [e for e in events if e.kind == "campaign_exported"] or events.extend(one_pass(url, export_dir)),
             60, interval=0.2, what="the export by the surviving instance")
    return events


def test_the_export_of_an_instance_killed_mid_export_is_finished_once_by_another(pg_url: str, tmp_path: Path) -> None:
    completed(tmp_path, pg_url, ["Alpha"])
    export_dir = tmp_path / "Export"
    proc = _supervisor_process(pg_url, export_dir, {"AIMPORT_FAULT": "mid_export"})  # killed with the temp file complete
    assert proc.wait(60) == -signal.SIGKILL
    assert [p.name for p in export_dir.iterdir() if p.name.startswith(".")]  # the temp file, never renamed
    events = passes_until_exported(pg_url, export_dir)
    [e] = [e for e in events if e.kind == "campaign_exported"]
    assert (e.detail["how"], e.detail["recovered"]) == ("renamed", True)
    [out] = exports(export_dir)
    assert out.name == e.detail["file"] and openpyxl.load_workbook(out)["Customers"].max_row == 4
    assert not [p for p in export_dir.iterdir() if p.name.startswith(".")]
    assert one_pass(pg_url, export_dir) == []


def test_an_instance_killed_before_acknowledging_keeps_its_claim_while_alive(pg_url: str, tmp_path: Path) -> None:
    completed(tmp_path, pg_url, ["Alpha"])
    export_dir = tmp_path / "Export"
    proc = _supervisor_process(pg_url, export_dir)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == ["campaign_started", "campaign_completed", "campaign_exported"]
        [written] = exports(export_dir)
        assert one_pass(pg_url, export_dir) == []  # alive: its claim holds, nothing is announced or written twice
    finally:
        proc.kill()
        proc.wait(30)
    events = passes_until_exported(pg_url, export_dir)  # it died before its events were acknowledged: at least once
    assert [(e.kind, e.detail.get("how")) for e in events if e.kind == "campaign_exported"] == [("campaign_exported", "found")]
    assert exports(export_dir) == [written]
    assert one_pass(pg_url, export_dir) == []


@pytest.mark.e2e
def test_an_export_interrupted_on_one_unit_is_finished_by_another_units_instance(cli: Cli, tmp_path: Path, pg_url: str) -> None:
    """SRV1's service dies between "file ready" and the rename; SRV2's service, on the same share and store,
    finishes the export in SRV1's Export/ (where the temp file is), once, instead of calling it missing."""
    from tests.helpers import query, wait_archived, wait_for, write_text
    from tests.serviceprocess import ServiceProcess
    from tests.test_several_units import FAST, audit_events

    root = tmp_path / "share"
    a = ServiceProcess(root=root, state=tmp_path / "sa", server="SRV1", store=pg_url, args=FAST,
                       env={"AIMPORT_FAULT": "mid_export"})
    c = ServiceProcess(root=root, state=tmp_path / "sc", server="SRV2", store=pg_url, args=FAST)
    try:
        a.start()
        os.replace(write_text(tmp_path / "s.txt", SCRIPT_ROWS), a.layout.type_dir("Scripts") / "s.txt")
        os.replace(write_text(tmp_path / "q.txt", [["Name"], ["Outbound"]]), a.layout.type_dir("Queues") / "q.txt")
        wait_archived(a.layout, "Scripts", "s.txt")
        wait_archived(a.layout, "Queues", "q.txt")
        f = campaign_file(tmp_path / "P.xlsx", 2, {"Script": "Survey", "Queue": "Outbound"})
        os.replace(f, a.layout.type_dir("OutboundCampaign") / "P.xlsx")
        wait_archived(a.layout, "OutboundCampaign", "P.xlsx")
        assert cli("campaign", "close", "P", "--store", pg_url).returncode == 0
        assert a.wait_exit(30) == -9  # killed after the temp file was complete, before the rename
        c.start()
        wait_for(lambda: audit_events([c], "campaign_exported"), 30, what="SRV2 finishes the export")
        [event] = audit_events([c], "campaign_exported")
        assert event["how"] == "renamed" and "warning" not in event, event
        assert [p for p in os.listdir(a.layout.export_dir)] == [event["file"]]  # in SRV1's folder, no temp file
        assert os.listdir(c.layout.export_dir) == []
        assert query(pg_url, "SELECT export_unit, export_ready FROM campaigns WHERE name = 'P'") == [("SRV1_VUBJS", 1)]
    finally:
        for s in (a, c):
            try:
                s.stop(15)
            except Exception:  # noqa: BLE001 - the process must not outlive the test
                s.kill()
