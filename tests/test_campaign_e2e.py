"""The whole loop with the real service: drop -> Active -> results -> completed -> exactly one export.

Each wait is for the very thing asserted after it: the supervisor renames an export into Export/, then records
``campaign_exported``, then notes it in the store, so a test that reads the audit trail or the store waits for
the event, not for the file (issue 26.12).
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from aimport.store.db import is_postgresql
from tests.campaign_helpers import SCRIPT_ROWS, campaign_file
from tests.helpers import Cli, CliResult, drop, query, result_of, wait_archived, wait_for, write_text
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(service_on_both: ServiceProcess) -> ServiceProcess:
    """Every test here runs the service on each backend: its embedded SQLite store, then a real PostgreSQL server."""
    return service_on_both


def campaign(cli: Cli, svc: ServiceProcess, *args: str) -> CliResult:
    """``aimport campaign ...`` on the service's store (its state directory; ``--store`` for PostgreSQL)."""
    store = ["--store", str(svc.store)] if is_postgresql(svc.store) else []
    return cli("campaign", *args, "--state-dir", svc.state, *store)


def exports(svc: ServiceProcess) -> list[Path]:
    return sorted(p for p in svc.layout.export_dir.iterdir() if p.suffix == ".xlsx" and not p.name.startswith("."))


def prepare(svc: ServiceProcess, tmp_path: Path, name: str = "Spring Promo", customers: int = 2) -> None:
    """The script, then an Active campaign of ``customers`` using it (each imported by the service)."""
    drop(write_text(tmp_path / "script.txt", SCRIPT_ROWS), svc.layout.type_dir("Scripts"))
    [hist] = wait_archived(svc.layout, "Scripts", "script.txt")
    assert result_of(hist)["status"] == "succeeded", _shown(svc, hist)
    drop_campaign(svc, tmp_path, name, customers)


def drop_campaign(svc: ServiceProcess, tmp_path: Path, name: str, customers: int) -> None:
    """Drop a campaign file that uses the script and wait until its import is complete and it is Active."""
    drop(campaign_file(tmp_path / f"{name}.xlsx", customers, {"Script": "Survey"}), svc.layout.type_dir("OutboundCampaign"))
    [hist] = wait_archived(svc.layout, "OutboundCampaign", f"{name}.xlsx")
    res = result_of(hist)
    assert (res["status"], res.get("campaign"), res.get("campaign_status")) == ("succeeded", name, "Active"), \
        _shown(svc, hist)


def _shown(svc: ServiceProcess, hist: Path) -> str:
    """An import's .result and .log, and the end of the service's log: what a failed expectation shows."""
    side = {ext: hist.with_name(hist.name + ext) for ext in (".result", ".log", ".err")}
    return "\n".join(f"--- {hist.name}{ext}\n{p.read_text(errors='replace')}" for ext, p in side.items() if p.exists()) \
        + f"\n--- service log (end)\n{svc.output()[-4000:]}"


def exported(svc: ServiceProcess, campaign: str) -> list[dict]:
    """The ``campaign_exported`` events of ``campaign`` (recorded after its file is renamed into Export/)."""
    return [e for e in svc.events("campaign_exported") if e["campaign"] == campaign]


def test_drop_results_complete_export_once(cli: Cli, service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--supervise-s", "0.2"]
    service.start()
    prepare(service, tmp_path)
    wait_for(lambda: service.events("campaign_started"), 10, what="campaign_started")
    r = campaign(cli, service, "record", "Spring Promo", "C0", "--result", "Successful", "--agent", "ann",
            "--answer", "Q1=Yes", "--answer", "Q2==cmd|' /C calc'!A0")
    assert r.returncode == 0, r.stderr
    r = campaign(cli, service, "record", "Spring Promo", "C1", "--result", "Successful", "--answer", "Q1=Maybe")
    assert r.returncode == 1 and r.stderr.strip() == "aimport campaign: error: answer 'Maybe' to Q1 is not one of Yes, No"
    assert campaign(cli, service, "record", "Spring Promo", "C1", "--result", "Wrong number").returncode == 0
    assert campaign(cli, service, "record", "Spring Promo", "C1", "--result", "Refusal").returncode == 0
    # the file is renamed into Export/ before its campaign_exported event is recorded: wait for the event
    [event] = wait_for(lambda: exported(service, "Spring Promo"), 15, what="campaign_exported of Spring Promo")
    [export] = exports(service)
    assert export.name == event["file"]
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
    # the restarted supervisor has had its passes (it exported a campaign closed after the restart) and wrote
    # no second export of Spring Promo
    drop_campaign(service, tmp_path, "After restart", 1)
    assert campaign(cli, service, "close", "After restart").returncode == 0
    wait_for(lambda: exported(service, "After restart"), 15, what="campaign_exported of After restart")
    assert [p.name for p in exports(service) if p.name.endswith("_Spring Promo.xlsx")] == [export.name]
    assert len(exported(service, "Spring Promo")) == 1
    listing = {c["name"]: c for c in json.loads(campaign(cli, service, "list", "--json").stdout)}
    assert listing["Spring Promo"]["status"] == "Handled" and listing["Spring Promo"]["exported"] == export.name
    shown = json.loads(campaign(cli, service, "show", "Spring Promo", "--json").stdout)
    assert (shown["campaign"]["completion_reason"], len(shown["customers"])) == ("every customer handled", 2)
    copy_dir = tmp_path / "copies"
    copy_dir.mkdir()
    assert campaign(cli, service, "export", "Spring Promo", "-o", str(copy_dir)).returncode == 0
    assert [p.name[15:] for p in copy_dir.iterdir()] == ["_Spring Promo.xlsx"]
    assert [p for p in exports(service) if p.name.endswith("_Spring Promo.xlsx")] == [export]  # a copy is not one


@pytest.mark.parametrize("fault", ["mid_export", "after_export_rename"])
def test_crash_during_export_never_zero_or_two(cli: Cli, service: ServiceProcess, tmp_path: Path, fault: str) -> None:
    service.args += ["--supervise-s", "0.2"]
    service.start()
    prepare(service, tmp_path, "Crashy", 1)
    service.stop()
    assert campaign(cli, service, "close", "Crashy").returncode == 0
    service.env["AIMPORT_FAULT"] = fault
    service.start(wait=False)  # the fault kills it in its first supervisor pass, maybe before /readyz answers
    assert service.wait_exit(20) == -9
    del service.env["AIMPORT_FAULT"]
    service.start()
    wait_for(lambda: service.events("campaign_exported"), 15, what="export after restart")
    [export] = exports(service)
    assert openpyxl.load_workbook(export)["Customers"].max_row == 2
    [e] = service.events("campaign_exported")
    assert (e["recovered"], e["how"]) == (True, "renamed" if fault == "mid_export" else "found")
    assert not [p for p in service.layout.export_dir.iterdir() if p.name.startswith(".")]


def test_demo_dialer_completes_a_campaign(service: ServiceProcess, tmp_path: Path) -> None:
    service.args += ["--supervise-s", "0.2", "--demo-dialer", "--demo-rate", "50"]
    service.start()
    wait_for(lambda: "SIMULATION" in service.output(), 10, what="the demo dialer's warning")  # (its task's first line)
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
