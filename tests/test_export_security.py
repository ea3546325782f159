"""Exports never contain formulas and campaign names never escape Export/."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from aimport.campaigns import model, results
from aimport.campaigns.exportfile import safe_name
from aimport.campaigns.supervisor import acknowledge, tick
from tests.campaign_helpers import campaign_file, with_script
from tests.helpers import StoreUnderTest

LONG = ["é" * 300, "名" * 200, "a" * 1000, "x" * 179 + "名"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a/b\\c", "..", "con:*?<>|\"", "\x00\x1fctl",
                                  "  .hidden. ", "...", "a/../../b", *LONG])
def test_safe_names_stay_inside(tmp_path: Path, name: str) -> None:
    safe = safe_name(name)
    target = (tmp_path / f"20260101_000000_{safe}.xlsx").resolve()
    assert target.parent == tmp_path.resolve()
    assert "/" not in safe and "\\" not in safe and ".." not in safe and "\x00" not in safe and safe
    longest = f".20260101_000000_{safe} (99).xlsx.tmp"  # the temp name of a numbered export
    assert len(longest.encode()) <= 255


@pytest.mark.both_stores
def test_long_unicode_name_exports(store: StoreUnderTest, tmp_path: Path) -> None:
    name = "Kampanja " + "ä" * 200
    store.imp(campaign_file(tmp_path / "long.xlsx", 1, {"Name": name}), "OutboundCampaign")
    conn = store.open()
    results.close(conn, name)
    export_dir = tmp_path / "Export"
    [e] = [e for e in tick(store.address, export_dir) if e.kind.startswith("campaign_export")]
    assert e.kind == "campaign_exported", e.detail
    assert (export_dir / e.detail["file"]).exists() and e.detail["file"].startswith(tuple("0123456789"))


@pytest.mark.both_stores
def test_hostile_campaign_name_and_formula_cells(store: StoreUnderTest, tmp_path: Path) -> None:
    with_script(store)
    rows_file = campaign_file(tmp_path / "x.xlsx", 0, {"Name": "../../escape", "Script": "Survey"}, extra=False)
    wb = openpyxl.load_workbook(rows_file)
    ws = wb["Customers"]
    ws.cell(row=1, column=6, value="=Notes")  # a formula-like extra column header
    for i, v in enumerate(["=1+1", "+358401", "-2", "@SUM(A1)", "\tTab", "\rCR"]):
        ws.append([f"E{i}", "+358 40 123 4567", None, v, "=HYPERLINK(\"http://x\")", v])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # keep them text in the input, as a user would type them
    wb.save(rows_file)
    o = store.imp(rows_file, "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    conn = store.open()
    results.record(conn, "../../escape", "E0", "Successful", classification="-1+1", agent="@agent",
                   answers={"Q1": "Yes", "Q2": "=2+2"})
    results.close(conn, "../../escape")
    conn.close()
    export_dir = tmp_path / "root" / "Export"
    export_dir.mkdir(parents=True)
    events = tick(store.address, export_dir)
    [exported] = [e for e in events if e.kind == "campaign_exported"]
    acknowledge(store.address, [e.ack for e in events if e.ack])
    out = export_dir / exported.detail["file"]
    assert out.exists() and out.resolve().parent == export_dir.resolve()
    assert sorted(p.name for p in tmp_path.rglob("*.xlsx") if "escape" in p.name) == [out.name]
    book = openpyxl.load_workbook(out)
    for ws in book.worksheets:
        text_cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert text_cells and {c.data_type for c in text_cells} == {"s"}, ws.title
        assert not [c for c in text_cells if c.data_type == "f"]
    values = {c.value for row in book["Customers"].iter_rows() for c in row}
    assert {"=1+1", "@SUM(A1)", '=HYPERLINK("http://x")', "=Notes", "=2+2", "@agent", "-1+1", "-2", "+358401"} <= values
    conn = store.open()
    assert model.require(conn, "../../escape").exported_at is not None
