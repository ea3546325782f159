"""Issue 25.5: a "Text" file of Excel for old Mac OS (MacRoman, lines ending in CR only, no BOM) reads as MacRoman."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimport.readers import ReadError
from aimport.readers.text import TextWorkbook
from tests.helpers import StoreUnderTest, query

ROWS = [["Name", "Description"], ["Café", "Crème brûlée • naïve"], ["Ωmega", "≠ “quoted”"]]


def mac_text(path: Path, rows: list[list[str]] = ROWS, line_end: str = "\r") -> Path:
    path.write_bytes("".join("\t".join(r) + line_end for r in rows).encode("mac_roman"))
    return path


def test_the_bytes_are_macroman_and_not_utf8() -> None:
    data = "Café".encode("mac_roman")
    assert data == b"Caf\x8e"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_auto_reads_an_old_mac_text_file_as_macroman_with_a_warning(tmp_path: Path) -> None:
    wb = TextWorkbook(mac_text(tmp_path / "mac.txt"), "\t", "auto")
    assert list(wb.sheet("mac").rows()) == [(1, ROWS[0]), (2, ROWS[1]), (3, ROWS[2])]
    assert len(wb.warnings) == 1
    assert "read as Mac OS Roman (its lines end in CR only" in wb.warnings[0]
    assert "line 2, byte" in wb.warnings[0]  # where the first non-UTF-8 byte is, counting CR-only lines


def test_cafe_is_stored_as_cafe(store: StoreUnderTest, tmp_path: Path) -> None:
    o = store.imp(mac_text(tmp_path / "skills.txt"), "Skills")
    text = o.log_path.read_text() if o.log_path else ""
    assert (o.status, o.totals.created) == ("succeeded", 2), text
    assert "WARNING" in text and "read as Mac OS Roman" in text
    assert query(tmp_path / "system.sqlite", "SELECT name, description FROM skills ORDER BY name") == [
        ("Café", "Crème brûlée • naïve"), ("Ωmega", "≠ “quoted”")]


def test_auto_without_cr_only_lines_is_windows_1252(tmp_path: Path) -> None:
    p = tmp_path / "win.txt"
    p.write_bytes("Name\tDescription\r\nCafé\t€\r\n".encode("cp1252"))
    wb = TextWorkbook(p, "\t")  # "auto" is the default
    assert "read as Windows-1252" in wb.warnings[0]
    assert list(wb.sheet("win").rows())[-1] == (2, ["Café", "€"])


def test_an_encoding_set_explicitly_wins(tmp_path: Path) -> None:
    wb = TextWorkbook(mac_text(tmp_path / "mac.txt", [["Name"], ["Caf\u00e9"]]), "\t", "latin-1")
    assert "read as iso8859-1 (setting text_fallback_encoding)" in wb.warnings[0]
    assert list(wb.sheet("mac").rows())[-1] == (2, ["Caf\x8e"])  # latin-1's byte 8E, as asked


def test_none_still_refuses(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as exc:
        TextWorkbook(mac_text(tmp_path / "mac.txt"), "\t", "none")
    assert exc.value.code == "BAD_ENCODING"


def test_open_workbook_defaults_to_auto(tmp_path: Path) -> None:
    from aimport.readers import open_workbook

    wb = open_workbook(mac_text(tmp_path / "mac.txt"))
    assert "Mac OS Roman" in wb.warnings[0]
