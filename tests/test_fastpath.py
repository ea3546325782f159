"""The staging fast paths give exactly what the row-by-row path gives: staged values, REJECT lines, line numbers."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from aimport.importing import columns as colparse
from aimport.importing import stage as staging
from aimport.readers.choose import open_workbook
from tests.helpers import stage_file, write_openpyxl, write_text, write_xlsxwriter

TRICKY_TEXT = ["plain", "  padded  ", "", " ", None, "Ägnes Öberg", "x" * 200, 12, 3.0, 4.5, "0", "a  b"]
TRICKY_PHONE = ["+358401234567", " 0401234567 ", "040-123 4567", "(09) 123.456", "00358401234", "+00123", "", None, 358401234567,
                "040\n1234567", "1", "12", "*#12", "9" * 32, "9" * 33, "+", "++3584012"]


def _stage(tmp_path: Path, path: Path, import_type: str, slow: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    if slow:
        def always_slow(*_a: Any) -> Any:
            raise colparse.Slow

        monkeypatch.setattr(staging, "parse_block", always_slow)
    else:
        monkeypatch.setattr(staging, "parse_block", colparse.parse_block)
    return stage_file(tmp_path / f"stage-{slow}.sqlite", path, import_type).result()


def _same(tmp_path: Path, path: Path, import_type: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    fast = _stage(tmp_path, path, import_type, False, monkeypatch)
    slow = _stage(tmp_path, path, import_type, True, monkeypatch)
    assert fast == slow
    return fast


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("writer", [write_openpyxl, write_xlsxwriter, write_text])
def test_directory_fast_path_matches_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, writer: Any) -> None:
    rnd = random.Random(seed)
    header = ["ExternalId", "FirstName", "LastName", "Company", "Phone", "Mobile", "Email"]
    rows: list[list[Any]] = [header]
    for i in range(300):
        row = [f"E{rnd.randrange(400) if seed % 2 else i}", rnd.choice(TRICKY_TEXT), f"L{i}", rnd.choice(TRICKY_TEXT),
               rnd.choice(TRICKY_PHONE), rnd.choice(TRICKY_PHONE), rnd.choice(TRICKY_TEXT)]
        if seed >= 4 and rnd.random() < 0.01:
            row[4] = "not a phone"  # a block with a reject goes row by row
        if writer is write_text:  # a line break inside a cell ends the line in a plain text file
            row = [c.replace("\n", " ") if isinstance(c, str) else c for c in row]
        rows.append(row[: rnd.choice([len(row), len(row), 4])] if writer is write_text else row)
    name = "d.txt" if writer is write_text else "d.xlsx"
    p = writer(tmp_path / name, rows) if writer is write_text else writer(tmp_path / name, {"Directory": rows})
    staged, _lines, n, rejected, dups = _same(tmp_path, p, "Directory", monkeypatch)
    assert n == 300 and len(staged) == n - rejected
    assert bool(dups) == bool(seed % 2)


@pytest.mark.parametrize("writer", [write_xlsxwriter, write_text])
def test_columns_out_of_order_and_unknown_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Any) -> None:
    """A header that does not take every column in order: the fast path picks the columns one by one."""
    rnd = random.Random(7)
    rows: list[list[Any]] = [["Notes", "Phone", "ExternalId", "LastName", "FirstName", "Remark"]]
    for i in range(300):
        rows.append([rnd.choice(TRICKY_TEXT), rnd.choice(TRICKY_PHONE[:4]), f"E{i}", f"L{i}", rnd.choice(TRICKY_TEXT[:6]),
                     "x"])
        if writer is write_text and i % 5 == 0:
            rows[-1] = rows[-1][:4]  # a short row: its last cells are empty
    fast_blocks = []

    def counting(*args: Any) -> Any:
        out = colparse.parse_block(*args)
        fast_blocks.append(len(out))
        return out

    p = writer(tmp_path / "o.txt", rows) if writer is write_text else writer(tmp_path / "o.xlsx", {"Directory": rows})
    staged, _lines, n, rejected, _dups = _same(tmp_path, p, "Directory", monkeypatch)
    assert n == 300 and len(staged) == n - rejected == 300
    monkeypatch.setattr(staging, "parse_block", counting)
    assert stage_file(tmp_path / "again.sqlite", p, "Directory").result() == (staged, _lines, n, rejected, _dups)
    assert fast_blocks == [300]  # the block took the fast path


def test_types_with_row_checks_lists_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["Name", "Description", "Delete"]] + [[f"S{i}", f"d{i}" if i % 3 else "", ""] for i in range(50)]
    rows[20][0] = "bad;name"
    _same(tmp_path, write_text(tmp_path / "s.txt", rows), "Skills", monkeypatch)
    rows[20][0] = "S20"
    rows[30][2] = "D"
    _same(tmp_path, write_text(tmp_path / "s2.txt", rows), "Skills", monkeypatch)
    q = [["Name", "Skills", "Priority", "Channel"]] + [[f"Q{i}", "a; b;c" if i % 2 else "", i % 10 + 1, "voice"] for i in range(40)]
    _same(tmp_path, write_xlsxwriter(tmp_path / "q.xlsx", {"Queues": q}), "Queues", monkeypatch)


def test_text_blocks_keep_physical_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "m.txt"
    p.write_bytes('\ufeffName\tNote\r\nA\t"two\r\nlines"\r\n\r\n\t\r\nB\t"x\ry"\r\nC\t"3\n\nlines"\r\n  \t \r\nD\tz\r\n'.encode())
    with open(p, encoding="utf-8-sig", newline="") as fh:
        r = csv.reader(fh, delimiter="\t")
        expected = [(r.line_num, row) for row in r if "".join(row).strip()]
    wb = open_workbook(p)
    assert list(wb.sheet(wb.sheet_names()[0]).rows()) == expected
