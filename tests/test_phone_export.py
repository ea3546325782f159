"""Phone numbers leave aimport as stored, in Text cells (format ``@``), so an export imported again is unchanged
and a number typed into the column later keeps its leading 0: directory entries, blocked numbers, campaigns."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from aimport.campaigns import model
from aimport.campaigns.exportfile import write_export
from aimport.workbooks.configexport import export_configuration
from tests.helpers import StoreUnderTest, write_openpyxl, write_text

pytestmark = pytest.mark.both_stores

DIRECTORY = [["ExternalId", "FirstName", "Phone", "Mobile"],
             ["D1", "Anna", "+358 (0)9 555 0001", "040 123 4567"],
             ["D2", "Bert", "00358-50-765-4321", "(040) 7654321"],
             ["D3", "Cecil", "112", None]]


def text_cells(path: Path, sheet: str, headers: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(value, cell type, number format) of every filled cell under ``headers``."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows())
    cols = [i for i, c in enumerate(rows[0]) if c.value in headers]
    return [(r[i].value, r[i].data_type, r[i].number_format) for r in rows[1:] for i in cols if r[i].value is not None]


@pytest.mark.parametrize("region", ["FI", ""])
def test_directory_phones_export_as_text_and_import_again_unchanged(store: StoreUnderTest, tmp_path: Path, region: str) -> None:
    o = store.imp(write_text(tmp_path / "dir.txt", DIRECTORY), "Directory", phone_region=region)
    assert (o.status, o.totals.created) == ("succeeded", 3), o.log_path.read_text()
    stored = store.query("SELECT phone, mobile FROM directory_entries ORDER BY id")
    if region:
        assert stored == [("+35895550001", "+358401234567"), ("+358507654321", "+358407654321"), ("112", None)]
    else:
        assert stored == [("+35895550001", "0401234567"), ("+358507654321", "0407654321"), ("112", None)]
    out = tmp_path / "directory.xlsx"
    export_configuration(store.address, out, ["directory"])
    cells = text_cells(out, "Directory", ("Phone", "Mobile"))
    assert sorted(v for v, _, _ in cells) == sorted(v for row in stored for v in row if v)
    assert {(t, f) for _, t, f in cells} == {("s", "@")}
    again = store.imp(out, "Directory", phone_region=region)
    assert (again.status, again.totals.unchanged, again.totals.created) == ("succeeded", 3, 0), again.log_path.read_text()


def test_blocked_numbers_export_as_text_and_import_again_unchanged(store: StoreUnderTest, tmp_path: Path) -> None:
    numbers = [["Number", "ValidUntil"], ["+358 50 765 4321", "2030-01-01"], ["040-123 4567", None], ["*100#", None]]
    assert store.imp(write_text(tmp_path / "b.txt", numbers), "BlockedNumbers", phone_region="FI").status == "succeeded"
    out = tmp_path / "blocked.xlsx"
    export_configuration(store.address, out, ["blockednumbers"])
    assert text_cells(out, "BlockedNumbers", ("Number",)) == [
        ("+358507654321", "s", "@"), ("+358401234567", "s", "@"), ("*100#", "s", "@")]
    ws = openpyxl.load_workbook(out)["BlockedNumbers"]
    assert (ws.column_dimensions["A"].number_format, ws.column_dimensions["B"].number_format) == ("@", "General")
    again = store.imp(out, "BlockedNumbers", phone_region="FI")
    assert (again.status, again.totals.unchanged) == ("succeeded", 3), again.log_path.read_text()


def test_a_campaign_export_writes_its_phones_as_stored_in_text_cells(store: StoreUnderTest, tmp_path: Path) -> None:
    customers = [["ExternalId", "Phone1", "Phone2", "Phone3"], ["C0", "040 123 4567", "+358 (0)9 555 0001", "112"],
                 ["C1", "0044 20 7946 0958", None, None]]
    o = store.imp(write_openpyxl(tmp_path / "Export me.xlsx", {"Customers": customers}), "OutboundCampaign", phone_region="FI")
    assert o.status == "succeeded", o.log_path.read_text()
    out = tmp_path / "export.xlsx"
    with store.open() as db:
        write_export(db, model.require(db, "Export me"), out)
    assert text_cells(out, "Customers", ("Phone1", "Phone2", "Phone3")) == [
        ("+358401234567", "s", "@"), ("+35895550001", "s", "@"), ("112", "s", "@"), ("+442079460958", "s", "@")]
    ws = openpyxl.load_workbook(out)["Customers"]
    assert ws["A2"].number_format == "General"  # only the phone columns are Text
    again = store.imp(out, "OutboundCampaign", phone_region="FI")  # the export as the file of a new campaign
    assert again.status == "succeeded", again.log_path.read_text()
    assert store.query("SELECT phone1, phone2, phone3 FROM customers ORDER BY campaign_id, id") == [
        ("+358401234567", "+35895550001", "112"), ("+442079460958", None, None)] * 2
