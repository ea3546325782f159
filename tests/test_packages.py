"""Issue 25.4: the workbook package: its workbook part found through ``_rels/.rels``, sheets that are not
worksheets passed over, and damaged parts refused as NOT_A_WORKBOOK naming the part (never INTERNAL_ERROR)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from aimport.readers import ReadError, open_workbook
from tests.helpers import StoreUnderTest, log_of, query
from tests.rawxlsx import Cell, Sheet, corrupt, rows_xml, styles_xml, write_book

SKILLS = [["Name", "Description"], ["Sales", "a"], ["Support", "b"]]


def skills(tmp_path: Path) -> list[str]:
    return [n for (n,) in query(tmp_path / "system.sqlite", "SELECT name FROM skills ORDER BY name")]


def excel_like(path: Path, rows: int = 3000) -> Path:
    """A workbook with shared strings, styles and a sheet large enough to be deflated in many blocks."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Skills")
    ws.write_row(0, 0, ["Name", "Description"])
    for i in range(rows):
        ws.write_row(i + 1, 0, [f"Skill {i:05d}", f"description {i * 7919 % 10007}"])
    wb.close()
    return path


def renamed(src: Path, dst: Path, name: str) -> Path:
    """``src`` with its workbook part renamed ``xl/<name>`` (the package's relationship says where it is)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            member = {"xl/workbook.xml": f"xl/{name}", "xl/_rels/workbook.xml.rels": f"xl/_rels/{name}.rels"}.get(
                info.filename, info.filename)
            if info.filename in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"xl/workbook.xml", f"xl/{name}".encode())
            zout.writestr(member, data)
    return dst


def test_a_workbook_part_not_named_workbook_xml(store: StoreUnderTest, tmp_path: Path) -> None:
    p = renamed(excel_like(tmp_path / "src.xlsx", rows=2), tmp_path / "moved.xlsx", "book.xml")
    with zipfile.ZipFile(p) as zf:
        assert "xl/workbook.xml" not in zf.namelist()
    o = store.imp(p, "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Skill 00000", "Skill 00001"]), log_of(o)


def test_member_names_written_with_backslashes(store: StoreUnderTest, tmp_path: Path) -> None:
    """A Windows tool wrote every member name with backslashes (xl\\workbook.xml, as in calamine's issue 530):
    Excel and calamine read the folders all the same; so does aimport (it was NOT_A_WORKBOOK)."""
    src = excel_like(tmp_path / "src.xlsx", rows=2)
    p = tmp_path / "backslashes.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename.replace("/", "\\"), zin.read(info))
    o = store.imp(p, "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Skill 00000", "Skill 00001"]), log_of(o)


@pytest.mark.parametrize("part", ["workbook.xml", "book/main.xml"])
def test_a_workbook_part_elsewhere_keeps_its_styles(tmp_path: Path, part: str) -> None:
    """The copy calamine reads puts the styles where calamine looks for them: dates stay dates."""
    rows = [["Name", "When", "Zip"], ["a", Cell(45000, 1), Cell(123, 2)]]
    p = write_book(tmp_path / "w.xlsx", [Sheet("Data", rows_xml(rows))], styles=styles_xml([14, "00000"]),
                   workbook_part=part)
    wb = open_workbook(p)
    assert list(wb.sheet("Data").rows())[1] == (2, ["a", dt.date(2023, 3, 15), "00123"])


@pytest.mark.parametrize("kind", ["macrosheet", "dialogsheet", "chartsheet"])
def test_sheets_that_are_not_worksheets_are_passed_over(store: StoreUnderTest, tmp_path: Path, kind: str) -> None:
    other = Sheet("Macro1" if kind != "chartsheet" else "Chart1", rows_xml([["=RETURN()"]]), kind=kind)
    p = write_book(tmp_path / "m.xlsm", [other, Sheet("Skills", rows_xml(SKILLS))])
    o = store.imp(p, "Skills")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Sales", "Support"]), log_of(o)
    label = {"macrosheet": "an Excel 4 macro sheet", "dialogsheet": "an Excel 5 dialog sheet",
             "chartsheet": "a chart sheet"}[kind]
    assert f"INFO    sheet '{other.name}' is {label} and was passed over (only worksheets hold rows to import)" in log_of(o)


def test_a_very_hidden_macro_sheet_in_a_configuration_workbook(store: StoreUnderTest, tmp_path: Path) -> None:
    p = write_book(tmp_path / "c.xlsx", [Sheet("Skills", rows_xml(SKILLS)),
                                         Sheet("Auto_Open", rows_xml([["=EXEC(\"calc\")"]]), kind="macrosheet",
                                               state="veryHidden")])
    o = store.imp(p, "Configuration")
    assert (o.status, skills(tmp_path)) == ("succeeded", ["Sales", "Support"]), log_of(o)
    assert "sheet 'Auto_Open' is an Excel 4 macro sheet and was passed over" in log_of(o)
    assert "hidden sheet 'Auto_Open'" not in log_of(o)


def test_a_workbook_of_a_macro_sheet_only_has_no_sheets(store: StoreUnderTest, tmp_path: Path) -> None:
    p = write_book(tmp_path / "m.xlsm", [Sheet("Macro1", rows_xml([["=RETURN()"]]), kind="macrosheet")])
    o = store.imp(p, "Skills")
    assert (o.status, o.error_code) == ("failed", "NO_ROWS"), log_of(o)
    assert "sheet 'Macro1' is an Excel 4 macro sheet and was passed over" in log_of(o)


DAMAGED = ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml",
           "xl/_rels/workbook.xml.rels", "[Content_Types].xml"]


@pytest.mark.parametrize("how", ["flip", "zero", "cut"])
@pytest.mark.parametrize("member", DAMAGED)
def test_a_damaged_part_is_not_a_workbook(store: StoreUnderTest, tmp_path: Path, member: str, how: str) -> None:
    p = corrupt(excel_like(tmp_path / "d.xlsx"), member, how)
    o = store.imp(p, "Skills")
    assert (o.status, o.error_code) == ("failed", "NOT_A_WORKBOOK"), log_of(o)
    assert f"damaged workbook: part {member} (" in log_of(o)
    assert skills(tmp_path) == []


def test_damage_is_found_in_the_sheet_read_as_well(tmp_path: Path) -> None:
    """The reader, not only the import: a damaged sheet part fails when it is opened or the sheet read."""
    p = corrupt(excel_like(tmp_path / "d.xlsx"), "xl/worksheets/sheet1.xml", "flip")
    with pytest.raises(ReadError) as exc:
        wb = open_workbook(p)  # (the formula scan reads a small sheet whole; a large one is read whole by sheet())
        list(wb.sheet("Skills").rows())
    assert exc.value.code == "NOT_A_WORKBOOK"
    assert exc.value.message.startswith("damaged workbook: part xl/worksheets/sheet1.xml (")
