"""The whole loop with the real service: drop -> Active -> results -> completed -> exactly one export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from aimport.store.db import is_postgresql
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file
from tests.helpers import ServiceProcess, drop, query, result_of, wait_archived, wait_for, write_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(service_on_both: ServiceProcess) -> ServiceProcess:
    """Every test here runs the service on each backend: its embedded SQLite store, then a real PostgreSQL server."""
    return service_on_both


def cli(svc: ServiceProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``aimport campaign ...`` on the service's store (its state directory; ``--store`` for PostgreSQL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    store = ["--store", str(svc.store)] if is_postgresql(svc.store) else []
    return subprocess.run([sys.executable, "-m", "aimport", "campaign", *args, "--state-dir", str(svc.state), *store],
                          capture_output=True, text=True, env=env, timeout=60)


def exports(svc: ServiceProcess) -> list[Path]:
    return sorted(p for p in svc.layout.export_dir.iterdir() if p.suffix == ".xlsx" and not p.name.startswith("."))


def prepare(svc: ServiceProcess, tmp_path: Path, name: str = "Spring Promo", customers: int = 2) -> None:
    layout = svc.layout
    drop(write_text(tmp_path / "script.txt", SCRIPT_ROWS), layout.type_dir("Scripts"))
    wait_archived(layout, "Scripts", "script.txt")
    drop(campaign_file(tmp_path / f"{name}.xlsx", customers, {"Script": "Survey"}), layout.type_dir("OutboundCampaign"))
    [hist] = wait_archived(layout, "OutboundCampaign", f"{name}.xlsx")
    res = result_of(hist)
    assert (res["status"], res["campaign"], res["campaign_status"]) == ("succeeded", name, "Active")


def events(svc: ServiceProcess, kind: str) -> list[dict]:
    return [json.loads(d) for (d,) in query(svc.audit_db, "SELECT detail FROM events WHERE kind = ? ORDER BY id", (kind,))]


def test_drop_results_complete_export_once(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--supervise-s", "0.2"]
    service.start()
    prepare(service, tmp_path)
    wait_for(lambda: events(service, "campaign_started"), 10, what="campaign_started")
    r = cli(service, "record", "Spring Promo", "C0", "--result", "Successful", "--agent", "ann",
            "--answer", "Q1=Yes", "--answer", "Q2==cmd|' /C calc'!A0")
    assert r.returncode == 0, r.stderr
    r = cli(service, "record", "Spring Promo", "C1", "--result", "Successful", "--answer", "Q1=Maybe")
    assert r.returncode == 1 and r.stderr.strip() == "aimport campaign: error: answer 'Maybe' to Q1 is not one of Yes, No"
    assert cli(service, "record", "Spring Promo", "C1", "--result", "Wrong number").returncode == 0
    assert cli(service, "record", "Spring Promo", "C1", "--result", "Refusal").returncode == 0
    [export] = wait_for(lambda: exports(service), 15, what="export")
    assert export.name.endswith("_Spring Promo.xlsx") and len(export.name) == len("20260101_120000_Spring Promo.xlsx")
    wb = openpyxl.load_workbook(export)
    ws = wb["Customers"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = rows[0]
    assert head[:5] == ["ExternalId", "Phone1", "Phone2", "Phone3", "FirstName"] and "Contract" in head
    assert head[-8:] == ["Result", "Call Result", "Call Classification", "Number of Calls", "Agent", "Date and Time", "Q1", "Q2"]
    c0 = dict(zip(head, rows[1]))
    assert (c0["Result"], c0["Call Result"], c0["Agent"], c0["Q1"], c0["Number of Calls"]) == ("Handled", "Successful", "ann", "Yes", 1)
    assert ws.cell(row=2, column=head.index("Q2") + 1).data_type == "s"  # formula-like answer stays text
    c1 = dict(zip(head, rows[2]))
    assert (c1["Call Result"], c1["Number of Calls"]) == ("Refusal", 2)
    kinds = [k for (k,) in query(service.audit_db, "SELECT kind FROM events WHERE kind LIKE 'campaign_%' ORDER BY id")]
    assert kinds == ["campaign_started", "campaign_completed", "campaign_exported"]
    service.stop()
    service.start()
    import time

    time.sleep(1.0)
    assert len(exports(service)) == 1
    listing = json.loads(cli(service, "list", "--json").stdout)
    assert listing[0]["status"] == "Handled" and listing[0]["exported"] == export.name
    shown = json.loads(cli(service, "show", "Spring Promo", "--json").stdout)
    assert (shown["campaign"]["completion_reason"], len(shown["customers"])) == ("every customer handled", 2)
    copy_dir = tmp_path / "copies"
    copy_dir.mkdir()
    assert cli(service, "export", "Spring Promo", "-o", str(copy_dir)).returncode == 0
    assert [p.name[15:] for p in copy_dir.iterdir()] == ["_Spring Promo.xlsx"] and exports(service) == [export]


@pytest.mark.parametrize("fault", ["mid_export", "after_export_rename"])
def test_crash_during_export_never_zero_or_two(service: ServiceProcess, tmp_path: Path, fault: str) -> None:
    service.args += ["--supervise-s", "0.2"]
    service.start()
    prepare(service, tmp_path, "Crashy", 1)
    service.stop()
    assert cli(service, "close", "Crashy").returncode == 0
    service.env["AIMPORT_FAULT"] = fault
    service.start(wait=False)  # the fault kills it in its first supervisor pass, maybe before /readyz answers
    assert service.wait_exit(20) == -9
    del service.env["AIMPORT_FAULT"]
    service.start()
    wait_for(lambda: events(service, "campaign_exported"), 15, what="export after restart")
    [export] = exports(service)
    assert openpyxl.load_workbook(export)["Customers"].max_row == 2
    [e] = events(service, "campaign_exported")
    assert (e["recovered"], e["how"]) == (True, "renamed" if fault == "mid_export" else "found")
    assert not [p for p in service.layout.export_dir.iterdir() if p.name.startswith(".")]


def test_demo_dialer_completes_a_campaign(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--supervise-s", "0.2", "--demo-dialer", "--demo-rate", "50"]
    service.start()
    assert "SIMULATION" in service.output()
    prepare(service, tmp_path, "Demo", 5)
    [export] = wait_for(lambda: exports(service), 60, what="demo export")
    ws = openpyxl.load_workbook(export)["Customers"]
    head = [c.value for c in ws[1]]
    results = [dict(zip(head, [c.value for c in r])) for r in list(ws.iter_rows())[1:]]
    assert len(results) == 5 and all(r["Result"] in ("Handled", "Max. Calls") for r in results)
    assert any(r["Q1"] in ("Yes", "No") for r in results if r["Call Result"] == "Successful") or not any(
        r["Call Result"] == "Successful" for r in results)


def test_campaign_files_import_side_by_side(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--max-concurrent", "2"]
    service.start()
    names = [f"Side {i}.txt" for i in range(3)]
    files = [write_text(tmp_path / n, [["ExternalId", "Phone1", "Segment"]] + [[f"S{j}", f"+35850{j:07d}", "b"] for j in range(5_000)])
             for n in names]
    for f in files:
        drop(f, service.layout.type_dir("OutboundCampaign"))
    for n in names:
        assert result_of(service.wait_done("OutboundCampaign", n, timeout=60)[0])["campaign_status"] == "Active"
    spans = query(service.audit_db, "SELECT started_at, finished_at FROM imports WHERE import_type = 'OutboundCampaign'")
    overlap = max(sum(1 for s, f in spans if s <= start < f) for start, _ in spans)
    assert overlap == 2  # side by side, and never above --max-concurrent
