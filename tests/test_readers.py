import codecs
from pathlib import Path

import pytest

from aimport.readers import ReadError, open_workbook
from aimport.readers.text import TextWorkbook
from tests.helpers import write_openpyxl, write_text, write_xlsxwriter

ROWS = [["Name", "Phone 1", "Count"], ["Ägnes", "+358401234567", 3], ["Bob", "0401234567", 4.5]]


def rows_of(path: Path, sheet: int = 0) -> list:
    wb = open_workbook(path)
    return list(wb.sheet(wb.sheet_names()[sheet]).rows())


@pytest.mark.parametrize("writer", [write_openpyxl, write_xlsxwriter])
def test_xlsx_both_writers(tmp_path: Path, writer) -> None:
    p = writer(tmp_path / "a.xlsx", {"Sheet With Spaces": ROWS})
    wb = open_workbook(p)
    assert wb.sheet_names() == ["Sheet With Spaces"]
    assert rows_of(p) == [(1, ["Name", "Phone 1", "Count"]), (2, ["Ägnes", "+358401234567", 3]), (3, ["Bob", "0401234567", 4.5])]


def test_xlsx_row_numbers_skip_blank_rows(tmp_path: Path) -> None:
    p = write_openpyxl(tmp_path / "b.xlsx", {"S": [[], ["Title"], [], ["Name"], ["x"], [None], []]})
    assert [n for n, _ in rows_of(p)] == [2, 4, 5]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_text_with_bom(tmp_path: Path, encoding: str) -> None:
    p = write_text(tmp_path / "a.txt", [["Name", "Note"], ["Ägnes", 'say "hi"'], ["Bob", ""]], encoding)
    wb = open_workbook(p)
    assert wb.warnings == []
    assert rows_of(p) == [(1, ["Name", "Note"]), (2, ["Ägnes", 'say "hi"']), (3, ["Bob", ""])]


def test_text_without_bom_warns(tmp_path: Path) -> None:
    p = write_text(tmp_path / "a.txt", [["Name"], ["x"]], "utf-8")
    assert "no byte order mark" in open_workbook(p).warnings[0]


def test_csv_semicolon_and_comma(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(codecs.BOM_UTF8 + b'Name;Note\r\n"a;b";c\r\n')
    assert rows_of(p) == [(1, ["Name", "Note"]), (2, ["a;b", "c"])]
    p.write_bytes(codecs.BOM_UTF8 + b"Name,Note\nx,y\n")
    assert rows_of(p) == [(1, ["Name", "Note"]), (2, ["x", "y"])]


def test_rows_stream(tmp_path: Path) -> None:
    p = write_text(tmp_path / "big.txt", [["Name"]] + [[f"n{i}"] for i in range(50_000)])
    it = open_workbook(p).sheet("big").rows()
    assert next(it) == (1, ["Name"])
    assert next(it) == (2, ["n0"])  # a generator, not a list


@pytest.mark.parametrize("content,name,code", [
    (b"", "e.xlsx", "EMPTY_FILE"),
    (b"\x00\x01garbage" * 10, "g.xlsx", "NOT_A_WORKBOOK"),
    (b"x", "a.pdf", "UNSUPPORTED_FORMAT"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", "UNSUPPORTED_FORMAT"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "enc.xlsx", "ENCRYPTED_WORKBOOK"),
])
def test_unreadable_files(tmp_path: Path, content: bytes, name: str, code: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(ReadError) as exc:
        rows_of(p)
    assert exc.value.code == code


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "z.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ReadError, match="not an Excel workbook") as exc:
        open_workbook(p)
    assert exc.value.code == "NOT_A_WORKBOOK"


def test_bad_utf8_mid_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(codecs.BOM_UTF8 + b"Name\nok\n\xff\xfe\xfa broken\n")
    with pytest.raises(ReadError) as exc:
        rows_of(p)
    assert exc.value.code == "BAD_ENCODING"


@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, b""])
def test_bad_bytes_are_located_in_the_file_not_in_a_chunk(tmp_path: Path, bom: bytes) -> None:
    """Issue 13.7: the line and byte offset of the file, also past the first megabyte; refused without fallback."""
    body = b"Name\r\n" + b"".join(b"row%07d\r\n" % i for i in range(200_000))  # 2.2 MB
    p = tmp_path / "bad.txt"
    p.write_bytes(bom + body + b"bad \xc3\x28 bytes\r\n")
    offset = len(bom) + len(body) + 4
    with pytest.raises(ReadError) as exc:
        TextWorkbook(p, "\t", "none")
    assert exc.value.code == "BAD_ENCODING"
    assert f"invalid UTF-8 bytes at line 200002, byte {offset} of the file: c3 28" in exc.value.message


def test_cp1252_fallback_past_the_first_chunk(tmp_path: Path) -> None:
    p = tmp_path / "late.csv"
    p.write_bytes(b"Name,Note\r\n" + b"x,y\r\n" * 300_000 + "Café,€\r\n".encode("cp1252"))
    wb = TextWorkbook(p, None)
    assert "read as Windows-1252" in wb.warnings[0] and "line 300002" in wb.warnings[0]
    assert list(wb.sheet("late").rows())[-1] == (300002, ["Café", "€"])
