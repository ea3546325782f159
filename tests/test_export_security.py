"""Exports never contain formulas and campaign names never escape Export/."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from aimport import store
from aimport.campaigns import model, results
from aimport.campaigns.exporter import safe_name
from aimport.campaigns.supervisor import tick
from tests.campaign_helpers import campaign_file, imp


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a/b\\c", "..", "con:*?<>|\"", "\x00\x1fctl", "  .hidden. "])
def test_safe_names_stay_inside(tmp_path: Path, name: str) -> None:
    safe = safe_name(name)
    target = (tmp_path / f"20260101_000000_{safe}.xlsx").resolve()
    assert target.parent == tmp_path.resolve()
    assert "/" not in safe and "\\" not in safe and ".." not in safe and safe


def test_hostile_campaign_name_and_formula_cells(tmp_path: Path) -> None:
    rows_file = campaign_file(tmp_path / "x.xlsx", 0, {"Name": "../../escape"}, extra=False)
    wb = openpyxl.load_workbook(rows_file)
    ws = wb["Customers"]
    for i, v in enumerate(["=1+1", "+358401", "-2", "@SUM(A1)", "\tTab", "\rCR"]):
        ws.append([f"E{i}", "040 1234", None, v, "=HYPERLINK(\"http://x\")"])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # keep them text in the input, as a user would type them
    wb.save(rows_file)
    o = imp(tmp_path, rows_file, "OutboundCampaign")
    assert o.status == "succeeded", o.log_path.read_text() if o.log_path else ""
    conn = store.open_store(tmp_path / "system.sqlite")
    results.close(conn, "../../escape")
    conn.close()
    export_dir = tmp_path / "root" / "Export"
    export_dir.mkdir(parents=True)
    events = tick(tmp_path / "system.sqlite", export_dir)
    [(_, detail)] = [e for e in events if e[0] == "campaign_exported"]
    out = export_dir / detail["file"]
    assert out.exists() and out.resolve().parent == export_dir.resolve()
    assert not list((tmp_path).glob("escape*")) and not list(tmp_path.parent.glob("*escape*"))
    ws = openpyxl.load_workbook(out)["Customers"]
    text_cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None and isinstance(c.value, str)]
    assert {c.data_type for c in text_cells} == {"s"}
    values = {c.value for c in text_cells}
    assert {"=1+1", "@SUM(A1)", '=HYPERLINK("http://x")'} <= values
    conn = store.open_store(tmp_path / "system.sqlite")
    assert model.require(conn, "../../escape").exported_at is not None
