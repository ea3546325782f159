"""A blocked number blocks a customer however either was written (phone_region FI), and a store from before
phonenumbers is upgraded: its phones re-normalised, blocked numbers that become one merged, values that cannot be
normalised kept and listed in the start-up log; a region set later re-normalises the national numbers. On SQLite
and on a real PostgreSQL server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from aimport.campaigns import results
from aimport.service.storesetup import prepare_store
from aimport.settings import Settings
from aimport.store.schema import SCHEMA_VERSION, open_store, stored_version
from aimport.store.storedphones import renormalise_phones, stored_phone_region
from tests.helpers import StoreUnderTest, query, write_openpyxl, write_text

pytestmark = pytest.mark.both_stores

BLOCKED = "+358 50 765 4321"
SAME_NUMBER = ["050 765 4321", "00358507654321", "+358 (0)50 765 4321", "050-765 4321", "(050) 765 43 21"]


def customers_file(path: Path, rows: list[list[Any]]) -> Path:
    return write_openpyxl(path, {"Customers": [["ExternalId", "Phone1", "Phone2", "FirstName"], *rows]})


@pytest.mark.parametrize("written", SAME_NUMBER)
def test_a_blocked_number_filters_a_customer_however_written(store: StoreUnderTest, tmp_path: Path, written: str) -> None:
    blocked = write_text(tmp_path / "blocked.txt", [["Number", "Description"], [BLOCKED, "asked not to be called"]])
    assert store.imp(blocked, "BlockedNumbers", phone_region="FI").status == "succeeded"
    o = store.imp(customers_file(tmp_path / "Spring.xlsx", [["C0", written, None, "Blocked"],
                                                                ["C1", "040 123 4567", written, "Second blocked"],
                                                                ["C2", "040 765 4321", None, "Free"]]), "OutboundCampaign", phone_region="FI")
    assert (o.status, o.result_fields["filtered"]) == ("succeeded", 1), o.log_path.read_text()
    assert store.query("SELECT external_id, phone1, phone2, result, next_phone FROM customers ORDER BY id") == [
        ("C0", "+358507654321", None, "Filtered", 1), ("C1", "+358401234567", "+358507654321", None, 1),
        ("C2", "+358407654321", None, None, 1)]


@pytest.mark.parametrize("blocked", SAME_NUMBER)
def test_a_blocked_number_written_nationally_filters_an_international_one(store: StoreUnderTest, tmp_path: Path, blocked: str) -> None:
    assert store.imp(write_text(tmp_path / "b.txt", [["Number"], [blocked]]), "BlockedNumbers", phone_region="FI").status == "succeeded"
    assert store.query("SELECT number FROM blocked_numbers") == [("+358507654321",)]
    o = store.imp(customers_file(tmp_path / "Summer.xlsx", [["C0", BLOCKED, None, "x"]]), "OutboundCampaign", phone_region="FI")
    assert o.result_fields["filtered"] == 1
    assert store.query("SELECT result FROM customers") == [("Filtered",)]


def test_the_next_number_after_a_wrong_number_is_skipped_when_blocked(store: StoreUnderTest, tmp_path: Path) -> None:
    """aimport campaign record: a Wrong number moves on to the next number unless that one is blocked."""
    assert store.imp(write_text(tmp_path / "b.txt", [["Number"], [BLOCKED]]), "BlockedNumbers", phone_region="FI").status == "succeeded"
    o = store.imp(customers_file(tmp_path / "Autumn.xlsx", [["C0", "040 123 4567", "050-765 4321", "x"],
                                                                ["C1", "040 123 4567", "09 555 0001", "y"]]), "OutboundCampaign", phone_region="FI")
    assert o.status == "succeeded", o.log_path.read_text()
    with store.open() as db:
        assert results.record(db, "Autumn", "C0", "Wrong number").customer_result == "Handled"
        assert results.record(db, "Autumn", "C1", "Wrong number").customer_result is None
    assert store.query("SELECT external_id, next_phone FROM customers ORDER BY id") == [("C0", 1), ("C1", 2)]


def test_two_rows_of_one_number_written_differently_are_a_duplicate(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(write_text(tmp_path / "b.txt", [["Number"], [BLOCKED], ["050 765 4321"]]), "BlockedNumbers", phone_region="FI")
    assert o.status == "partial" and o.totals.created == 1
    assert store.query("SELECT number FROM blocked_numbers") == [("+358507654321",)]


def old_store(address: Path | str) -> None:
    """A store as an aimport before schema version 4 left it: the old regex's phone values, no store_facts."""
    with open_store(address) as db:
        db.begin_write()
        db.execute("DROP TABLE store_facts")
        db.execute("UPDATE schema_version SET version = 3")
        db.executemany("INSERT INTO directory_entries (first_name, phone, mobile) VALUES (?, ?, ?)", [
            ("Anna", "+3580401234567", "0401234567"),  # '+358 (0)40 123 4567' and '040 123 4567' as the regex kept them
            ("Bert", "04012345670507654321", "*100#"),  # two numbers run together: cannot be normalised
            ("Cecil", None, "00358501112233"),
        ])
        db.executemany("INSERT INTO blocked_numbers (number, description, valid_until) VALUES (?, ?, ?)", [
            ("+358507654321", None, "2027-01-01"),
            ("0507654321", "asked not to be called", None),  # the same number: merged into the row above
            ("12", "too short", None),
            ("0401112233", None, "2030-01-01"),
            ("+3580401112233", "same again", "2028-01-01"),  # merged too: the later date wins
        ])
        db.execute("INSERT INTO campaigns (name, status) VALUES ('Old', 'Active')")
        cid = db.execute("SELECT id FROM campaigns").fetchone()[0]
        db.executemany("INSERT INTO customers (campaign_id, external_id, phone1, phone2, phone3) VALUES (?, ?, ?, ?, ?)",
                       [(cid, "C0", "0507654321", None, None), (cid, "C1", "+3580401234567", "095550001", "1-800")])
        db.commit()
        assert stored_version(db) == 3


def settings_for(store: StoreUnderTest, region: str) -> Settings:
    address = store.address
    return Settings(state_dir=store.folder, store=address if isinstance(address, str) else "sqlite", phone_region=region,
                    enabled=False)


def test_a_store_from_before_is_upgraded_and_its_phones_normalised(store: StoreUnderTest, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    address = store.address
    old_store(address)
    with caplog.at_level(logging.INFO, logger="aimport"):
        prepare_store(settings_for(store, "FI"))
    assert query(address, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert query(address, "SELECT first_name, phone, mobile FROM directory_entries ORDER BY id") == [
        ("Anna", "+358401234567", "+358401234567"), ("Bert", "04012345670507654321", "*100#"),
        ("Cecil", None, "+358501112233")]
    assert query(address, "SELECT number, description, valid_until FROM blocked_numbers ORDER BY id") == [
        ("+358507654321", "asked not to be called", None), ("12", "too short", None),
        ("+358401112233", "same again", "2030-01-01")]
    assert query(address, "SELECT external_id, phone1, phone2, phone3 FROM customers ORDER BY id") == [
        ("C0", "+358507654321", None, None), ("C1", "+358401234567", "+35895550001", "1-800")]
    log = caplog.text
    assert ("stored phone numbers normalised for phone_region FI (stored before aimport used the phonenumbers "
            "library): 7 value(s) rewritten, 2 blocked number(s) merged, 3 kept as they were") in log
    assert "kept as it was: directory entry id 2 (directory_entries.phone): '04012345670507654321' is too long" in log
    assert "kept as it was: blocked number id 3 (blocked_numbers.number): '12' is too short for FI (+358)" in log
    assert "kept as it was: customer id 2 (customers.phone3): '1-800' is too short for FI (+358)" in log
    assert "are the same number +358507654321: kept id 1, valid until further notice; removed id 2 ('0507654321')" in log
    with open_store(address) as db:
        assert stored_phone_region(db) == "FI"
        assert not renormalise_phones(db, "FI").ran  # done once: the next start does nothing


def test_blocked_numbers_of_an_upgraded_store_filter_new_customers(store: StoreUnderTest, tmp_path: Path) -> None:
    old_store(store.address)
    prepare_store(settings_for(store, "FI"))
    o = store.imp(customers_file(tmp_path / "New.xlsx", [["N0", "050 765 4321", None, "x"],
                                                             ["N1", "+358 40 111 2233", None, "y"]]), "OutboundCampaign", phone_region="FI")
    assert o.result_fields["filtered"] == 2


def test_a_region_set_later_normalises_the_national_numbers(store: StoreUnderTest, tmp_path: Path) -> None:
    address = store.address
    with open_store(address) as db:
        assert renormalise_phones(db, "").ran  # the service's first start, without a region
    numbers = [["Number"], ["050 765 4321"], [BLOCKED], ["112"], ["+46 70 123 45 67"]]
    assert store.imp(write_text(tmp_path / "b.txt", numbers), "BlockedNumbers", phone_region="").status == "succeeded"
    rows = query(address, "SELECT number FROM blocked_numbers ORDER BY id")
    assert rows == [("0507654321",), ("+358507654321",), ("112",), ("+46701234567",)]
    with open_store(address) as db:
        report = renormalise_phones(db, "FI")
        assert (report.ran, report.previous, report.changed, len(report.merged)) == (True, "", 1, 1)
        assert stored_phone_region(db) == "FI"
    assert query(address, "SELECT number FROM blocked_numbers ORDER BY id") == [
        ("+358507654321",), ("112",), ("+46701234567",)]
    with open_store(address) as db:
        report = renormalise_phones(db, "SE")  # E.164 numbers stay; 112 is a Swedish short number too
        assert (report.ran, report.changed, report.kept, report.merged) == (True, 0, [], [])
