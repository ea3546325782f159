"""Campaign files: settings, template copy, Invalid campaigns, existing names, duplicates, text files."""

from __future__ import annotations

from pathlib import Path

from aimport import store
from aimport.campaigns import model
from tests.campaign_helpers import campaign_file, imp, with_script
from tests.helpers import query, write_text


def test_campaign_started_with_customers_and_extra_columns(tmp_path: Path) -> None:
    with_script(tmp_path)
    o = imp(tmp_path, campaign_file(tmp_path / "Autumn.xlsx", 5, {"Script": "Survey", "EndDate": "2099-12-31"}), "OutboundCampaign")
    assert (o.status, o.totals["created"]) == ("succeeded", 5)
    assert o.extra["result_fields"] == {"campaign": "Autumn", "campaign_status": "Active"}
    conn = store.open_store(tmp_path / "system.sqlite")
    c = model.require(conn, "Autumn")
    assert (c.status, c.script, c.number_of_redials, c.redial_interval_s, c.extra_columns) == ("Active", "Survey", 3, 600, ["Contract"])
    assert "template campaign 'Template' not found: built-in defaults" in o.log_path.read_text()
    assert query(tmp_path / "system.sqlite", "SELECT phone1, phone2, data FROM customers WHERE external_id = 'C1'") == [
        ("+358401000001", "095550001", '{"Contract": "K-1"}')]


def test_name_setting_template_copy_and_existing_name(tmp_path: Path) -> None:
    with_script(tmp_path)
    imp(tmp_path, campaign_file(tmp_path / "t.xlsx", 1, {"Name": "Template", "Script": "Survey", "NumberOfRedials": 5}), "OutboundCampaign")
    o = imp(tmp_path, campaign_file(tmp_path / "x.xlsx", 2, {"Name": "Winter"}), "OutboundCampaign")
    conn = store.open_store(tmp_path / "system.sqlite")
    w = model.require(conn, "Winter")
    assert (w.copied_from, w.script, w.number_of_redials, w.status) == ("Template", "Survey", 5, "Active")
    o = imp(tmp_path, campaign_file(tmp_path / "Winter.xlsx", 9), "OutboundCampaign")
    assert (o.status, o.error_code) == ("failed", "CAMPAIGN_EXISTS")
    assert "a campaign named 'Winter' already exists; it was left unchanged" in o.log_path.read_text()
    assert model.counts(conn, w.id)["customers"] == 2


def test_unknown_script_makes_it_invalid_not_active(tmp_path: Path) -> None:
    o = imp(tmp_path, campaign_file(tmp_path / "Bad.xlsx", 2, {"Script": "Nope", "EndDate": "2020-01-01", "StartDate": "2021-01-01"}), "OutboundCampaign")
    assert (o.status, o.error_code) == ("partial", "CAMPAIGN_INVALID")
    log = o.log_path.read_text()
    assert "Script: no script named 'Nope'" in log and "EndDate is before StartDate" in log
    conn = store.open_store(tmp_path / "system.sqlite")
    assert model.require(conn, "Bad").status == "Invalid"


def test_mandatory_fields_and_duplicate_external_ids(tmp_path: Path) -> None:
    rows = [["ExternalId", "Phone1", "Notes"], ["A", "040 111", "x"], ["A", "040 222", ""], ["", "040 333", ""],
            ["B", "", ""], ["C", "not a phone", ""], ["D", "0044 20 7946 0000", "n"]]
    o = imp(tmp_path, write_text(tmp_path / "Text Campaign.txt", rows), "OutboundCampaign")
    assert (o.status, o.totals["created"], o.totals["rejected"]) == ("partial", 2, 4)
    log = o.log_path.read_text()
    assert "row 3 column ExternalId: duplicate ExternalId 'A': already in row 2" in log
    assert "row 4 column ExternalId: ExternalId is mandatory" in log and "row 5 column Phone1" in log
    assert query(tmp_path / "system.sqlite", "SELECT phone1 FROM customers WHERE external_id = 'D'") == [("+442079460000",)]


def test_csv_semicolon_customers(tmp_path: Path) -> None:
    p = tmp_path / "csvcamp.csv"
    p.write_bytes("\ufeffExternal ID;Phone 1\r\nX1;040 1\r\n".encode())
    o = imp(tmp_path, p, "OutboundCampaign")
    assert (o.status, o.totals["created"]) == ("succeeded", 1)

