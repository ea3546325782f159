"""Phone numbers leave aimport as stored, in Text cells (format ``@``), so an export imported again is unchanged
and a number typed into the column later keeps its leading 0: directory entries, blocked numbers, campaigns."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from aimport.campaigns import model
from aimport.campaigns.exportfile import write_export
from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import
from aimport.store.schema import open_store
from aimport.workbooks.configexport import export_configuration
from tests.helpers import query, store_of, write_openpyxl, write_text

pytestmark = pytest.mark.usefixtures("on_both_stores")

DIRECTORY = [["ExternalId", "FirstName", "Phone", "Mobile"],
             ["D1", "Anna", "+358 (0)9 555 0001", "040 123 4567"],
             ["D2", "Bert", "00358-50-765-4321", "(040) 7654321"],
             ["D3", "Cecil", "112", None]]


def imp(tmp_path: Path, path: Path, import_type: str, region: str) -> ImportOutcome:
    n = len(list(tmp_path.glob("*.imp.log")))
    return run_import(ImportRequest(path=path, import_type=import_type, import_key=f"k{n}",
                                    store_address=store_of(tmp_path), work_dir=tmp_path / "w", actor="admin",
                                    log_path=tmp_path / f"{n}.imp.log", phone_region=region))


def text_cells(path: Path, sheet: str, headers: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(value, cell type, number format) of every filled cell under ``headers``."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows())
    cols = [i for i, c in enumerate(rows[0]) if c.value in headers]
    return [(r[i].value, r[i].data_type, r[i].number_format) for r in rows[1:] for i in cols if r[i].value is not None]


@pytest.mark.parametrize("region", ["FI", ""])
def test_directory_phones_export_as_text_and_import_again_unchanged(tmp_path: Path, region: str) -> None:
    o = imp(tmp_path, write_text(tmp_path / "dir.txt", DIRECTORY), "Directory", region)
    assert (o.status, o.totals.created) == ("succeeded", 3), o.log_path.read_text()
    stored = query(store_of(tmp_path), "SELECT phone, mobile FROM directory_entries ORDER BY id")
    if region:
        assert stored == [("+35895550001", "+358401234567"), ("+358507654321", "+358407654321"), ("112", None)]
    else:
        assert stored == [("+35895550001", "0401234567"), ("+358507654321", "0407654321"), ("112", None)]
    out = tmp_path / "directory.xlsx"
    export_configuration(store_of(tmp_path), out, ["directory"])
    cells = text_cells(out, "Directory", ("Phone", "Mobile"))
    assert sorted(v for v, _, _ in cells) == sorted(v for row in stored for v in row if v)
    assert {(t, f) for _, t, f in cells} == {("s", "@")}
    again = imp(tmp_path, out, "Directory", region)
    assert (again.status, again.totals.unchanged, again.totals.created) == ("succeeded", 3, 0), again.log_path.read_text()


def test_blocked_numbers_export_as_text_and_import_again_unchanged(tmp_path: Path) -> None:
    numbers = [["Number", "ValidUntil"], ["+358 50 765 4321", "2030-01-01"], ["040-123 4567", None], ["*100#", None]]
    assert imp(tmp_path, write_text(tmp_path / "b.txt", numbers), "BlockedNumbers", "FI").status == "succeeded"
    out = tmp_path / "blocked.xlsx"
    export_configuration(store_of(tmp_path), out, ["blockednumbers"])
    assert text_cells(out, "BlockedNumbers", ("Number",)) == [
        ("+358507654321", "s", "@"), ("+358401234567", "s", "@"), ("*100#", "s", "@")]
    ws = openpyxl.load_workbook(out)["BlockedNumbers"]
    assert (ws.column_dimensions["A"].number_format, ws.column_dimensions["B"].number_format) == ("@", "General")
    again = imp(tmp_path, out, "BlockedNumbers", "FI")
    assert (again.status, again.totals.unchanged) == ("succeeded", 3), again.log_path.read_text()


def test_a_campaign_export_writes_its_phones_as_stored_in_text_cells(tmp_path: Path) -> None:
    customers = [["ExternalId", "Phone1", "Phone2", "Phone3"], ["C0", "040 123 4567", "+358 (0)9 555 0001", "112"],
                 ["C1", "0044 20 7946 0958", None, None]]
    o = imp(tmp_path, write_openpyxl(tmp_path / "Export me.xlsx", {"Customers": customers}), "OutboundCampaign", "FI")
    assert o.status == "succeeded", o.log_path.read_text()
    out = tmp_path / "export.xlsx"
    with open_store(store_of(tmp_path)) as db:
        write_export(db, model.require(db, "Export me"), out)
    assert text_cells(out, "Customers", ("Phone1", "Phone2", "Phone3")) == [
        ("+358401234567", "s", "@"), ("+35895550001", "s", "@"), ("112", "s", "@"), ("+442079460958", "s", "@")]
    ws = openpyxl.load_workbook(out)["Customers"]
    assert ws["A2"].number_format == "General"  # only the phone columns are Text
    again = imp(tmp_path, out, "OutboundCampaign", "FI")  # the export as the file of a new campaign
    assert again.status == "succeeded", again.log_path.read_text()
    assert query(store_of(tmp_path), "SELECT phone1, phone2, phone3 FROM customers ORDER BY campaign_id, id") == [
        ("+358401234567", "+35895550001", "112"), ("+442079460958", None, None)] * 2
