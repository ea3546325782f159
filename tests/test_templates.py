"""Templates: headers with a comment per column, mandatory marked, drop-down lists, importable as is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

from aimport.layout import IMPORT_TYPES
from aimport.templates import write_txt, write_xlsx


def test_xlsx_template_has_comments_and_validation(tmp_path: Path) -> None:
    p = write_xlsx("Queues", tmp_path / "q.xlsx")
    ws = openpyxl.load_workbook(p)["Queues"]
    headers = [c.value for c in ws[1]]
    assert headers == ["Id", "ExternalId", "Name", "Description", "Channel", "Calendar", "Skills", "Priority", "Delete"]
    assert ws["C1"].comment.text.startswith("MANDATORY")
    assert ws["B1"].comment.text.startswith("optional")
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert '"Voice,Chat,Email"' in lists


def test_configuration_template_has_every_sheet(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_xlsx("Configuration", tmp_path / "c.xlsx"))
    assert wb.sheetnames == ["Calendars", "Skills", "PresenceProfiles", "Scripts", "Queues", "UserGroups", "Users"]


def test_txt_template_is_utf8_bom_with_note_row(tmp_path: Path) -> None:
    raw = write_txt("Calendar", tmp_path / "c.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, notes = raw[3:].decode().splitlines()
    assert header.split("\t")[:3] == ["Id", "Name", "Description"]
    assert notes.split("\t")[1].startswith("[MANDATORY")


def test_all_templates_cli(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "aimport", "template", "--all", "-o", str(tmp_path / "t")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in (tmp_path / "t").iterdir()}
    assert {f"{t}.xlsx" for t in IMPORT_TYPES} <= names
    wb = openpyxl.load_workbook(tmp_path / "t" / "OutboundCampaign.xlsx")
    assert wb.sheetnames == ["Campaign", "Customers"]
    r = subprocess.run([sys.executable, "-m", "aimport", "template", "Nope", "-o", str(tmp_path / "x.xlsx")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown import type 'Nope'" in r.stderr
