"""Campaign files: settings, template copy, Invalid campaigns, existing names, duplicates, text files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aimport.campaigns import model
from aimport.store import campaigns as stored
from tests.campaign_helpers import campaign_file, with_script
from tests.helpers import StoreUnderTest, write_openpyxl, write_text

pytestmark = pytest.mark.both_stores


def test_campaign_started_with_customers_and_extra_columns(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    o = store.imp(campaign_file(tmp_path / "Autumn.xlsx", 5, {"Script": "Survey", "EndDate": "2099-12-31"}), "OutboundCampaign")
    assert (o.status, o.totals.created) == ("succeeded", 5)
    assert o.result_fields == {"campaign": "Autumn", "campaign_status": "Active"}
    conn = store.open()
    c = model.require(conn, "Autumn")
    assert (c.status, c.script, c.number_of_redials, c.redial_interval_s, c.extra_columns) == ("Active", "Survey", 3, 600, ["Contract"])
    assert "template campaign 'Template' not found: built-in defaults" in o.log_path.read_text()
    assert store.query("SELECT phone1, phone2, data FROM customers WHERE external_id = 'C1'") == [
        ("+358401000001", "095550001", '{"Contract": "K-1"}')]


def test_name_setting_template_copy_and_existing_name(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    store.imp(campaign_file(tmp_path / "t.xlsx", 1, {"Name": "Template", "Script": "Survey", "NumberOfRedials": 5}), "OutboundCampaign")
    o = store.imp(campaign_file(tmp_path / "x.xlsx", 2, {"Name": "Winter"}), "OutboundCampaign")
    conn = store.open()
    w = model.require(conn, "Winter")
    assert (w.copied_from, w.script, w.number_of_redials, w.status) == ("Template", "Survey", 5, "Active")
    o = store.imp(campaign_file(tmp_path / "Winter.xlsx", 9), "OutboundCampaign")
    assert (o.status, o.error_code) == ("failed", "CAMPAIGN_EXISTS")
    assert "a campaign named 'Winter' already exists; it was left unchanged" in o.log_path.read_text()
    assert stored.counts(conn, w.id).customers == 2


def test_unknown_script_makes_it_invalid_not_active(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(campaign_file(tmp_path / "Bad.xlsx", 2, {"Script": "Nope", "EndDate": "2020-01-01", "StartDate": "2021-01-01"}), "OutboundCampaign")
    assert (o.status, o.error_code) == ("partial", "CAMPAIGN_INVALID")
    log = o.log_path.read_text()
    assert "Script: no script named 'Nope'" in log and "EndDate is before StartDate" in log
    conn = store.open()
    assert model.require(conn, "Bad").status == "Invalid"


def test_mandatory_fields_and_duplicate_external_ids(store: StoreUnderTest, tmp_path: Path) -> None:
    rows = [["ExternalId", "Phone1", "Notes"], ["A", "040 111 1111", "x"], ["A", "040 222 2222", ""], ["", "040 333 3333", ""],
            ["B", "", ""], ["C", "not a phone", ""], ["D", "0044 20 7946 0000", "n"]]
    o = store.imp(write_text(tmp_path / "Text Campaign.txt", rows), "OutboundCampaign")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 2, 4)
    log = o.log_path.read_text()
    assert "row 3 column ExternalId: duplicate ExternalId 'A': already in row 2" in log
    assert "row 4 column ExternalId: ExternalId is mandatory" in log and "row 5 column Phone1" in log
    assert store.query("SELECT phone1 FROM customers WHERE external_id = 'D'") == [("+442079460000",)]


def test_csv_semicolon_customers(store: StoreUnderTest, tmp_path: Path) -> None:
    p = tmp_path / "csvcamp.csv"
    p.write_bytes("\ufeffExternal ID;Phone 1\r\nX1;040 123 4567\r\n".encode())
    o = store.imp(p, "OutboundCampaign")
    assert (o.status, o.totals.created) == ("succeeded", 1)



def test_every_campaign_setting(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    settings = {"Name": "Full", "Script": "Survey", "Queue": "Outbound", "StartDate": "2020-01-01",
                "EndDate": dt.date(2099, 1, 31), "NumberOfRedials": 7, "RedialInterval": 900,
                "TimeZone": "Europe/Helsinki", "Colour": "blue"}
    o = store.imp(campaign_file(tmp_path / "whatever.xlsx", 1, settings), "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text()
    assert "unknown setting 'Colour' ignored" in o.log_path.read_text()
    c = model.require(store.open(), "Full")
    assert (c.status, c.script, c.queue, c.start_date, c.end_date, c.number_of_redials, c.redial_interval_s, c.time_zone) == (
        "Active", "Survey", "Outbound", "2020-01-01", "2099-01-31", 7, 900, "Europe/Helsinki")
    assert c.started_at


@pytest.mark.parametrize("settings, reason", [
    ({"EndDate": "2001-01-01"}, "EndDate 2001-01-01 has already passed"),
    ({"CopySettingsFrom": "Ghost"}, "CopySettingsFrom: no campaign named 'Ghost'"),
    ({"Queue": "Nowhere"}, "Queue: no queue named 'Nowhere'"),
    ({"NumberOfRedials": "many"}, "NumberOfRedials:"),
    ({"TimeZone": "Mars/Olympus"}, "TimeZone:"),
])
def test_invalid_settings(store: StoreUnderTest, tmp_path: Path, settings: dict, reason: str) -> None:
    o = store.imp(campaign_file(tmp_path / "Inv.xlsx", 1, settings), "OutboundCampaign")
    assert (o.status, o.error_code, o.result_fields["campaign_status"]) == ("partial", "CAMPAIGN_INVALID", "Invalid")
    assert reason in o.log_path.read_text()
    c = model.require(store.open(), "Inv")
    assert c.status == "Invalid" and reason in (c.invalid_reason or "") and c.started_at is None


def test_blocked_numbers_filter_customers(store: StoreUnderTest, tmp_path: Path) -> None:
    blocked = [["Number", "ValidUntil"], ["+358401000000", ""], ["09 5550000", ""], ["+358401000001", "2099-01-01"],
               ["+358401000002", "2001-01-01"]]
    assert store.imp(write_text(tmp_path / "b.txt", blocked), "BlockedNumbers").status == "succeeded"
    o = store.imp(campaign_file(tmp_path / "Filt.xlsx", 3), "OutboundCampaign")
    assert (o.status, o.result_fields["filtered"]) == ("succeeded", 1)
    assert "1 customer(s) filtered" in o.log_path.read_text()
    assert store.query("SELECT external_id, result, next_phone FROM customers ORDER BY id") == [
        ("C0", "Filtered", 1), ("C1", None, 2), ("C2", None, 1)]  # C2's block expired


def test_check_changes_nothing(store: StoreUnderTest, tmp_path: Path) -> None:
    p = campaign_file(tmp_path / "Dry.xlsx", 3)
    o = store.imp(p, "OutboundCampaign", dry_run=True, log=False)
    assert (o.status, o.totals.created) == ("succeeded", 3)
    assert store.query("SELECT COUNT(*) FROM campaigns") == [(0,)]
    assert not list(store.work_dir.iterdir())


def test_customers_only_sheet_and_first_sheet(store: StoreUnderTest, tmp_path: Path) -> None:
    p = write_openpyxl(tmp_path / "Plain.xlsx", {"Leads": [["external_id", "PHONE-1", "Company"], ["L1", "+4930 1234567", "ACME"]]})
    o = store.imp(p, "OutboundCampaign")
    assert (o.status, o.totals.created, o.sheets[0].sheet) == ("succeeded", 1, "Leads")
    assert store.query("SELECT company FROM customers") == [("ACME",)]


def _campaign_xlsxwriter(path: Path, *, date_1904: bool, start_serial: int, contract_formula_error: str | None) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    ws = wb.add_worksheet("Campaign")
    ws.write_row(0, 0, ["Setting", "Value"])
    ws.write_row(1, 0, ["StartDate"])
    ws.write_number(1, 1, start_serial)  # a plain-number serial, as a date typed into an unformatted cell
    ws.write_row(2, 0, ["EndDate", "2099-12-31"])
    cs = wb.add_worksheet("Customers")
    cs.write_row(0, 0, ["ExternalId", "Phone1", "Contract"])
    cs.write_row(1, 0, ["C1", "040 1000001", "K-1"])
    cs.write_row(2, 0, ["C2", "040 1000002"])
    if contract_formula_error:
        cs.write_formula(2, 2, "=VLOOKUP(A3,Contracts!A:B,2,FALSE)", None, contract_formula_error)
    wb.close()
    return path


def test_campaign_error_cell_in_an_extra_column_is_a_rejected_row(store: StoreUnderTest, tmp_path: Path) -> None:
    """Issue 13.2 for campaigns: a failed lookup in a customer's extra column is never stored as its text."""
    o = store.imp(_campaign_xlsxwriter(tmp_path / "Errors.xlsx", date_1904=False, start_serial=46000,
                                           contract_formula_error="#N/A"), "OutboundCampaign")
    assert (o.status, o.totals.created, o.totals.rejected) == ("partial", 1, 1)
    assert "row 3 column Contract: the cell holds the error value #N/A" in o.log_path.read_text()
    assert store.query("SELECT external_id, data FROM customers") == [("C1", '{"Contract": "K-1"}')]


def test_campaign_dates_use_the_workbooks_1904_epoch(store: StoreUnderTest, tmp_path: Path) -> None:
    """Issue 13.5 for campaigns: a plain-number StartDate in a 1904 workbook is not four years early."""
    store.imp(_campaign_xlsxwriter(tmp_path / "Mac.xlsx", date_1904=True, start_serial=45000,
                                       contract_formula_error=None), "OutboundCampaign")
    conn = store.open()
    # 45000 days after 1904-01-01 (the 1904 system's day 0)
    assert model.require(conn, "Mac").start_date == (dt.date(1904, 1, 1) + dt.timedelta(days=45000)).isoformat()
