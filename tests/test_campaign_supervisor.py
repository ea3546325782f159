"""The supervisor's pass: start/expire/complete, announce at least once, and the export's states after a crash."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from aimport.atomicfile import temp_path
from aimport.campaigns import model, results
from aimport.campaigns.exportfile import write_export
from aimport.campaigns.supervisor import CampaignEvent, acknowledge, tick
from aimport.store import calls
from aimport.store.db import Db, StoreAddress
from aimport.store.schema import open_store
from tests.campaign_helpers import campaign_file, with_script
from tests.helpers import StoreUnderTest, write_text

pytestmark = pytest.mark.both_stores


@pytest.fixture
def db(store: StoreUnderTest, tmp_path: Path) -> StoreAddress:
    with_script(store)
    for name in ("Alpha", "Beta"):
        o = store.imp(campaign_file(tmp_path / f"{name}.xlsx", 2, {"Script": "Survey"}), "OutboundCampaign")
        assert o.status == "succeeded"
    return store.address


def run(db: StoreAddress, export_dir: Path, failures: dict[int, str] | None = None, ack: bool = True) -> list[CampaignEvent]:
    events = tick(db, export_dir, failures)
    if ack:
        acknowledge(db, [e.ack for e in events if e.ack])
    return events


def kinds(events: list[CampaignEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.detail["campaign"]) for e in events]


def conn_of(db: StoreAddress) -> Db:
    return open_store(db)


def test_announced_at_least_once_then_exported_once(db: StoreAddress, tmp_path: Path) -> None:
    export_dir = tmp_path / "Export"
    assert kinds(run(db, export_dir, ack=False)) == [("campaign_started", "Alpha"), ("campaign_started", "Beta")]
    assert kinds(run(db, export_dir)) == [("campaign_started", "Alpha"), ("campaign_started", "Beta")]  # not acked: again
    assert run(db, export_dir) == []
    results.close(conn_of(db), "Alpha")
    events = run(db, export_dir)
    assert kinds(events) == [("campaign_completed", "Alpha"), ("campaign_exported", "Alpha")]
    assert (events[1].detail["how"], events[1].detail["recovered"], events[1].detail["rows"]) == ("written", False, 2)
    assert run(db, export_dir) == []
    assert [p.name for p in export_dir.iterdir()] == [events[1].detail["file"]]


def prepare_crash(db: StoreAddress, export_dir: Path, state: str) -> tuple[str, float | None]:
    """Leave Alpha's export as a crash at ``state`` would; returns the planned name and the final file's mtime."""
    run(db, export_dir)
    conn = conn_of(db)
    results.close(conn, "Alpha")
    name = "20260101_000000_Alpha.xlsx"
    out = export_dir / name
    export_dir.mkdir(exist_ok=True)
    conn.execute("UPDATE campaigns SET export_name = ?, completion_announced = 1 WHERE name = 'Alpha'", (name,))
    if state == "writing":
        temp_path(out).write_bytes(b"PK half a file")
    if state in ("ready", "renamed", "taken"):
        write_export(conn, model.require(conn, "Alpha"), out)
        conn.execute("UPDATE campaigns SET export_ready = 1 WHERE name = 'Alpha'")
    if state == "ready":
        os.replace(out, temp_path(out))
    if state == "taken":
        out.unlink()
    return name, out.stat().st_mtime if out.exists() else None


@pytest.mark.parametrize("state, how", [("planned", "written"), ("writing", "written"), ("ready", "renamed"),
                                        ("renamed", "found"), ("taken", "missing")])
def test_restart_at_every_export_state_gives_one_export(db: StoreAddress, tmp_path: Path, state: str, how: str) -> None:
    export_dir = tmp_path / "Export"
    name, mtime = prepare_crash(db, export_dir, state)
    [e] = run(db, export_dir)
    assert (e.kind, e.detail["file"], e.detail["how"], e.detail["recovered"]) == ("campaign_exported", name, how, True)
    files = sorted(p.name for p in export_dir.iterdir())
    if state == "taken":  # the rename happened and another program took the file: never written twice
        assert files == [] and "not written twice" in e.detail["warning"]
    else:
        assert files == [name]
        assert openpyxl.load_workbook(export_dir / name)["Customers"].max_row == 3
    if state == "renamed":
        assert (export_dir / name).stat().st_mtime == mtime
    assert run(db, export_dir) == [] and model.require(conn_of(db), "Alpha").exported_at


def test_failed_export_reported_once_and_others_continue(db: StoreAddress, tmp_path: Path) -> None:
    export_dir = tmp_path / "Export"
    run(db, export_dir)
    conn = conn_of(db)
    results.close(conn, "Alpha")
    results.close(conn, "Beta")
    conn.execute("UPDATE campaigns SET export_name = 'no-such-dir/x.xlsx' WHERE name = 'Alpha'")
    failures: dict[int, str] = {}
    events = run(db, export_dir, failures)
    assert [(e.kind, e.detail["campaign"]) for e in events if "export" in e.kind] == [
        ("campaign_export_failed", "Alpha"), ("campaign_exported", "Beta")]
    assert [e.kind for e in run(db, export_dir, failures)] == []  # the same failure is not reported again
    assert not [p for p in export_dir.rglob(".*")]
    conn.execute("UPDATE campaigns SET export_name = NULL WHERE name = 'Alpha'")
    assert [e.kind for e in run(db, export_dir, failures)] == ["campaign_exported"]


def test_start_date_expiry_in_time_zone_and_nobody_left(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    o = store.imp(campaign_file(tmp_path / "Later.xlsx", 1, {"StartDate": tomorrow}), "OutboundCampaign")
    assert o.result_fields["campaign_status"] == "Passive"
    store.imp(campaign_file(tmp_path / "Kiribati.xlsx", 1, {"TimeZone": "Pacific/Kiritimati"}), "OutboundCampaign")
    store.imp(campaign_file(tmp_path / "Samoa.xlsx", 1, {"TimeZone": "Pacific/Pago_Pago"}), "OutboundCampaign")
    db, export_dir = store.address, tmp_path / "Export"
    conn = conn_of(db)
    with pytest.raises(model.CampaignError, match="Passive"):
        results.record(conn, "Later", "C0", "Busy")
    assert kinds(run(db, export_dir)) == [("campaign_started", "Kiribati"), ("campaign_started", "Samoa")]
    # UTC+14 is always at least a day ahead of UTC-11: Samoa's today has passed in Kiribati, not in Samoa
    samoa = dt.datetime.now(dt.timezone(dt.timedelta(hours=-11))).date()
    conn.execute("UPDATE campaigns SET end_date = ? WHERE name IN ('Kiribati', 'Samoa')", (samoa.isoformat(),))
    conn.execute("UPDATE campaigns SET start_date = ? WHERE name = 'Later'", (dt.date.today().isoformat(),))
    with pytest.raises(model.CampaignError, match="ended on"):
        results.record(conn, "Kiribati", "C0", "Busy")
    events = run(db, export_dir)
    assert ("campaign_started", "Later") in kinds(events)
    assert [e.detail for e in events if e.kind == "campaign_completed"] == [
        {"campaign": "Kiribati", "status": "Expired", "reason": f"end date {samoa} passed", "customers": 1, "handled": 0, "calls": 0}]
    assert results.record(conn, "Samoa", "C0", "Busy").number_of_calls == 1
    conn.execute("UPDATE customers SET result = 'Filtered' WHERE campaign_id = (SELECT id FROM campaigns WHERE name = 'Later')")
    events = run(db, export_dir)
    assert ("campaign_completed", "Later") in kinds(events)
    assert model.require(conn, "Later").completion_reason == "every customer handled"


def test_export_columns_with_clashing_customer_data(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    rows = [["ExternalId", "Phone1", "Result", "q1", "Region"], ["R1", "040 1", "old", "old answer", "North"]]
    p = write_text(tmp_path / "Reimport.txt", rows)
    store.imp(campaign_file(tmp_path / "Template.xlsx", 1, {"Script": "Survey"}), "OutboundCampaign")
    assert store.imp(p, "OutboundCampaign").status == "succeeded"
    conn = conn_of(store.address)
    results.record(conn, "Reimport", "R1", "Successful", answers={"Q1": "No"})
    out = tmp_path / "out.xlsx"
    write_export(conn, model.require(conn, "Reimport"), out)
    ws = openpyxl.load_workbook(out)["Customers"]
    head = [c.value for c in ws[1]]
    row = dict(zip(head, [c.value for c in ws[2]]))
    assert len(set(head)) == len(head)
    assert (row["Result (customer data)"], row["q1 (customer data)"], row["Region"]) == ("old", "old answer", "North")
    assert (row["Result"], row["Q1"]) == ("Handled", "No")


def test_export_rows_come_page_by_page_in_order_with_their_answers(store: StoreUnderTest, db: StoreAddress, tmp_path: Path) -> None:
    with_script(store)
    assert store.imp(campaign_file(tmp_path / "Gamma.xlsx", 7, {"Script": "Survey"}), "OutboundCampaign").status == "succeeded"
    conn = conn_of(db)
    for i, answer in ((0, "Yes"), (3, "No"), (6, "Yes")):
        results.record(conn, "Gamma", f"C{i}", "Successful", answers={"Q1": answer, "Q2": f"note {i}"})
    results.record(conn, "Alpha", "C1", "Successful", answers={"Q1": "No"})  # another campaign's answer
    gamma = model.require(conn, "Gamma")
    rows = list(calls.export_rows(conn, gamma.id, page=2))
    assert [r.customer[0] for r in rows] == [f"C{i}" for i in range(7)]
    assert [r.answers for r in rows] == [{"Q1": "Yes", "Q2": "note 0"}, {}, {}, {"Q1": "No", "Q2": "note 3"}, {}, {},
                                         {"Q1": "Yes", "Q2": "note 6"}]
    assert [(r.result, r.call_result, r.number_of_calls) for r in rows[:2]] == [("Handled", "Successful", 1), (None, None, 0)]
    assert rows[1].data == {"Contract": "K-1"}
    assert list(calls.export_rows(conn, 999_999)) == []
