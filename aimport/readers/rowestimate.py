"""How many data rows a file holds, estimated without reading it (the large-file check of office hours).

- xlsx: each worksheet's ``<dimension ref="A1:F250001"/>``, which Excel, LibreOffice, openpyxl and
  xlsxwriter write near the start of the sheet part; only the first 64 KB of each part is unpacked.
  A sheet without one (or with a one-cell dimension on a big part) counts the ``<row`` elements in
  those 64 KB and scales them by the part's unpacked size.
- text: the lines in the first 64 KB, scaled by the file size (exact for a file up to 64 KB).

One header row per sheet (or file) is not counted. Nothing is parsed beyond that: an unreadable file
has no estimate (None), and the import itself reports what is wrong with it.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["SAMPLE_BYTES", "estimate_rows"]

SAMPLE_BYTES = 64 * 1024
MAX_WORKBOOK_XML = 16 << 20  # xl/workbook.xml unpacking to more than this is not read (zip-bomb guard)
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?[A-Za-z]{0,3}\$?(\d+)(?::\$?[A-Za-z]{0,3}\$?(\d+))?"')
ROW_START = re.compile(rb"<(?:\w+:)?row[\s>/]")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
TEXT_EXTENSIONS = (".txt", ".tsv", ".csv")


def estimate_rows(path: Path) -> int | None:
    """Data rows of ``path`` (xlsx or text), estimated; None for another kind of file or one that cannot be read."""
    ext = path.suffix.lower()
    try:
        if ext in XLSX_EXTENSIONS:
            return _xlsx_rows(path)
        if ext in TEXT_EXTENSIONS:
            return _text_rows(path)
    except (OSError, ValueError, KeyError, EOFError):
        return None
    return None


def _xlsx_rows(path: Path) -> int | None:
    # the zip and XML modules are imported here, when a workbook is met: the service loads this module at start
    # and most services never estimate a workbook (1.1 MB less resident)
    import zipfile

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError

    from aimport.readers.package import Package
    from aimport.readers.xlsxparts import book_info

    try:
        with Package(path) as zf:
            if zf.getinfo("xl/workbook.xml").file_size > MAX_WORKBOOK_XML:
                return None
            total = 0
            for part in [s.part for s in book_info(zf).sheets if s.part]:
                try:
                    size = zf.getinfo(part).file_size
                except KeyError:
                    continue
                with zf.open(part) as fh:
                    head = fh.read(SAMPLE_BYTES)
                total += max(0, _sheet_rows(head, size) - 1)
            return total
    except (zipfile.BadZipFile, ParseError, DefusedXmlException):
        return None


def _sheet_rows(head: bytes, size: int) -> int:
    """Rows of one sheet part (header included) from its first bytes ``head`` and its unpacked ``size``."""
    m = DIMENSION.search(head)
    whole = size <= len(head)
    if m is not None and m[2] is not None:  # a range: the sheet's rows
        return int(m[2]) - int(m[1]) + 1
    if m is not None and whole:  # one cell ("A1"): one row, or none on an empty sheet
        return 1 if ROW_START.search(head) else 0
    seen = len(ROW_START.findall(head))  # no dimension, or "A1" on a big part (some writers leave it so)
    return seen if whole or not head else round(seen * size / len(head))


def _text_rows(path: Path) -> int:
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        size = fh.seek(0, 2)
    lines = head.count(b"\n")
    if size <= len(head):
        lines += 1 if head and not head.rstrip(b"\x00").endswith(b"\n") else 0  # a last line without a line end
    else:
        lines = round(lines * size / len(head))
    return max(0, lines - 1)
