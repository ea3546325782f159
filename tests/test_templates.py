"""Templates: the importer's headers, a comment (xlsx) or note row (txt) per column, drop-down lists; importable once filled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aimport.itemtypes.catalog import CATALOG
from aimport.layout import IMPORT_TYPES
from aimport.workbooks.templates import write_txt, write_xlsx
from tests.helpers import Cli, StoreUnderTest

ITEM_FOLDERS = [t for t in IMPORT_TYPES if t not in ("Configuration", "OutboundCampaign")]
SAMPLE: dict[str, dict[str, Any]] = {  # one valid row per item type (references left empty)
    "calendar": {"Name": "Office", "TimeZone": "Europe/Helsinki", "OpeningHours": "Mon-Fri 08:00-17:00"},
    "skill": {"Name": "Sales"},
    "presence": {"Name": "Lunch", "Status": "Away"},
    "script": {"Script": "Survey", "QuestionId": "Q1", "Question": "Happy?", "AnswerType": "Choice", "Options": "Yes;No"},
    "queue": {"Name": "Support", "Channel": "Voice", "Priority": 3},
    "usergroup": {"Name": "Agents"},
    "directory": {"ExternalId": "D1", "Company": "ACME", "Phone": "+358 9 123 4567"},
    "blocked": {"Number": "040 123 4567", "ValidUntil": "2027-01-31"},
    "user": {"Login": "ann", "FirstName": "Ann", "Surname": "Lee", "Rights": "Agent"},
}


@pytest.mark.parametrize("name", [*IMPORT_TYPES, "Users"])
def test_xlsx_template_headers_comments_and_lists(tmp_path: Path, name: str) -> None:
    wb = openpyxl.load_workbook(write_xlsx(name, tmp_path / "t.xlsx"))
    if name == "OutboundCampaign":
        assert wb.sheetnames == ["Campaign", "Customers"]
        assert wb["Customers"]["A1"].comment.text.startswith("MANDATORY")
        return
    types = CATALOG.config_types() if name == "Configuration" else [CATALOG.resolve_name(name)]
    assert wb.sheetnames == [t.sheet for t in types]
    for t in types:
        ws = wb[t.sheet or ""]
        assert [c.value for c in ws[1]] == [f.name for f in t.fields] + ["Delete"]
        assert ws.max_row == 1  # no note row: the filled template imports as it is
        for cell, f in zip(ws[1], t.fields):
            note = cell.comment.text
            assert note.startswith("MANDATORY") == (f.mandatory or f.name in t.mandatory_any), (f.name, note)
            assert note.startswith(("MANDATORY", "optional"))
            assert (cell.font.color.rgb == "00C00000") == note.startswith("MANDATORY")
        lists = {str(dv.sqref).split(":")[0][:-1]: dv.formula1 for dv in ws.data_validations.dataValidation}
        for cell, f in zip(ws[1], t.fields):
            if f.kind == "enum":
                assert lists[cell.column_letter] == '"' + ",".join(f.choices) + '"'
            elif f.kind == "bool":
                assert lists[cell.column_letter] == '"Yes,No"'
            else:
                assert cell.column_letter not in lists
        assert lists[ws.cell(1, len(t.fields) + 1).column_letter] == '"D"'


def test_queues_template_details(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(write_xlsx("queue", tmp_path / "q.xlsx"))["Queues"]
    assert ws["C1"].value == "Name" and ws["C1"].comment.text.startswith("MANDATORY; queue name")
    assert "whole number 1..10" in ws["H1"].comment.text and "one of: Voice, Chat, Email" in ws["E1"].comment.text
    users = openpyxl.load_workbook(write_xlsx("Users", tmp_path / "u.xlsx"))["Users"]
    assert "UserGroup folder" in users["G1"].comment.text


@pytest.mark.parametrize("folder", ITEM_FOLDERS)
def test_filled_xlsx_template_imports(store: StoreUnderTest, tmp_path: Path, folder: str) -> None:
    t = CATALOG.for_folder(folder)
    assert t is not None
    p = write_xlsx(folder, tmp_path / f"{folder}.xlsx")
    wb = openpyxl.load_workbook(p)
    wb.active.append([SAMPLE[t.key].get(f.name) for f in t.fields])
    wb.save(p)
    o = store.imp(p, folder, log=False)
    assert (o.status, o.totals.created) == ("succeeded", 1), o.log_text


def test_filled_configuration_template_imports(store: StoreUnderTest, tmp_path: Path) -> None:
    p = write_xlsx("Configuration", tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(p)
    for t in CATALOG.config_types():
        wb[t.sheet or ""].append([SAMPLE[t.key].get(f.name) for f in t.fields])
    wb.save(p)
    o = store.imp(p, "Configuration", log=False)
    assert (o.status, o.totals.created) == ("succeeded", 6), o.log_text
    assert [s.totals.created for s in o.sheets] == [1] * 6


@pytest.mark.parametrize("folder", ITEM_FOLDERS)
def test_txt_template_is_utf8_bom_with_note_row_and_imports_once_filled(store: StoreUnderTest, tmp_path: Path, folder: str) -> None:
    t = CATALOG.for_folder(folder)
    assert t is not None
    p = write_txt(folder, tmp_path / f"{folder}.txt")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    header, notes = raw[3:].decode("utf-8").splitlines()
    assert header.split("\t") == [f.name for f in t.fields] + ["Delete"]
    cells = notes.split("\t")
    assert len(cells) == len(t.fields) + 1 and all(c.startswith(("[MANDATORY", "[optional")) and c.endswith("]") for c in cells)
    with open(p, "a", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(str(SAMPLE[t.key].get(f.name, "")) for f in t.fields) + "\t\r\n")
    o = store.imp(p, folder, log=False)
    assert (o.status, o.totals.rows, o.totals.created) == ("succeeded", 1, 1), o.log_text


def test_txt_template_only_for_one_item_type(tmp_path: Path) -> None:
    for name in ("Configuration", "OutboundCampaign"):
        with pytest.raises(ValueError, match="--format txt holds one item type"):
            write_txt(name, tmp_path / "x.txt")
    with pytest.raises(ValueError, match="Users import only through the Configuration workbook"):
        write_txt("Users", tmp_path / "u.txt")


def test_all_templates_cli(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "Examples and Templates"
    r = cli("template", "--all", "-o", str(out))
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.xlsx" for t in IMPORT_TYPES} | {f"{t}.txt" for t in ITEM_FOLDERS} | {"Users (Configuration).xlsx"}
    assert openpyxl.load_workbook(out / "Configuration.xlsx").sheetnames == [
        "Calendars", "Skills", "PresenceProfiles", "Scripts", "Queues", "Users"]
    assert not list(out.glob(".*"))


def test_template_cli_formats_and_errors(cli: Cli, tmp_path: Path) -> None:
    r = cli("template", "Skills", "-o", str(tmp_path / "s.txt"))
    assert r.returncode == 0 and (tmp_path / "s.txt").read_bytes().startswith(b"\xef\xbb\xbfId\tName")
    r = cli("template", "skill", "--format", "xlsx", "-o", str(tmp_path / "s.xlsx"))
    assert r.returncode == 0 and openpyxl.load_workbook(tmp_path / "s.xlsx").sheetnames == ["Skills"]
    for args, message in [
        (["Nope", "-o", str(tmp_path / "x.xlsx")], "unknown import type 'Nope'"),
        (["-o", str(tmp_path / "x.xlsx")], "name an import type, or use --all"),
        (["Skills", "--format", "txt", "-o", str(tmp_path / "x.xlsx")], "a txt template needs a .txt file name"),
        (["Configuration", "-o", str(tmp_path / "c.txt")], "--format txt holds one item type"),
        (["Skills", "-o", str(tmp_path / "missing" / "x.xlsx")], "no such folder"),
        (["Skills", "--all", "-o", str(tmp_path / "d")], "either an import type or --all"),
    ]:
        r = cli("template", *args)
        assert r.returncode == 2 if "folder" not in message else r.returncode == 1, (args, r.returncode, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_examples_import_in_order_into_the_real_service(cli: Cli, tmp_path: Path, service: Any) -> None:
    """`template --all --examples`: a filled example per import type, numbered in the order that imports them
    into an empty system; dropped one after the other into the real service, each one succeeds."""
    from tests.helpers import result_of

    r = cli("template", "--all", "-o", str(tmp_path / "out"), "--examples")
    assert r.returncode == 0, r.stderr
    examples = sorted((tmp_path / "out").glob("[0-9][0-9] * example.xlsx"))
    folders = [p.name.split(" ")[1] for p in examples]
    assert sorted(folders) == sorted(IMPORT_TYPES)  # one example per import type
    for earlier, later in (("UserGroup", "Configuration"), ("Calendar", "Queues"), ("Skills", "Queues"),
                           ("Scripts", "OutboundCampaign"), ("Queues", "OutboundCampaign"), ("Presence", "Configuration")):
        assert folders.index(earlier) < folders.index(later)
    service.start()
    for p, folder in zip(examples, folders):
        dest = service.layout.type_dir(folder) / p.name
        p.replace(dest)
        [hist] = service.wait_done(folder, p.name)
        res = result_of(hist)
        log = hist.with_name(hist.name + ".log").read_text()
        assert res["status"] == "succeeded", (p.name, log)
        assert not [w for w in log.splitlines() if "WARNING" in w and "phone" in w], (p.name, log)  # phone_region unset
        assert int(res["created"]) >= 1 and res["rejected"] == "0", (p.name, res)


def test_examples_need_all(cli: Cli, tmp_path: Path) -> None:
    r = cli("template", "Skills", "-o", str(tmp_path / "s.xlsx"), "--examples")
    assert r.returncode == 2 and "--examples goes with --all" in r.stderr
