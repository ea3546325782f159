"""Generated inputs: the same rows as xlsx (xlsxwriter) and tab-delimited text."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

DIR_HEADER = ["ExternalId", "FirstName", "LastName", "Company", "Phone", "Mobile", "Email", "Department", "DirectoryGroup"]


def directory_rows(n: int, prefix: str = "E") -> Iterator[list[str]]:
    for i in range(n):
        yield [f"{prefix}{i}", f"First{i}", f"Last{i}", "ACME Oy", f"+35840{i:07d}", f"+35850{i:07d}",
               f"p{i}@example.com", "Sales", "Group A"]


def xlsx(path: Path, header: list[str], rows: Iterator[list[str]], sheet: str = "Sheet1") -> Path:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, header)
    for i, r in enumerate(rows, start=1):
        ws.write_row(i, 0, r)
    wb.close()
    return path


def text(path: Path, header: list[str], rows: Iterator[list[str]]) -> Path:
    with open(path, "wb") as fh:
        fh.write(codecs.BOM_UTF8)
        fh.write(("\t".join(header) + "\r\n").encode())
        buf = []
        for r in rows:
            buf.append("\t".join(r))
            if len(buf) >= 10000:
                fh.write(("\r\n".join(buf) + "\r\n").encode())
                buf.clear()
        if buf:
            fh.write(("\r\n".join(buf) + "\r\n").encode())
    return path


def users_workbook(path: Path, n: int) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("Skills")
    ws.write_row(0, 0, ["Name"])
    for i in range(20):
        ws.write_row(i + 1, 0, [f"Skill {i}"])
    ws = wb.add_worksheet("Users")
    ws.write_row(0, 0, ["Login", "FirstName", "Surname", "Email", "Skills", "Rights"])
    for i in range(n):
        ws.write_row(i + 1, 0, [f"user{i}", f"First{i}", f"Last{i}", f"u{i}@example.com", f"Skill {i % 20}:{1 + i % 10}", "Agent"])
    wb.close()
    return path


def campaign_xlsx(path: Path, n: int, prefix: str = "C") -> Path:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("Customers")
    ws.write_row(0, 0, ["ExternalId", "Phone1", "Phone2", "FirstName", "LastName", "Company", "Contract"])
    for i in range(n):
        ws.write_row(i + 1, 0, [f"{prefix}{i}", f"+35840{i:07d}", f"09{i:07d}", f"First{i}", f"Last{i}", "ACME", f"K{i}"])
    wb.close()
    return path
