"""The choice of reader by a file's extension: the one entry point the importers open files through."""

from __future__ import annotations

from pathlib import Path

from aimport.readers.base import ReadError, Workbook

__all__ = ["TEXT_EXTENSIONS", "open_workbook"]

TEXT_EXTENSIONS = {".txt": "\t", ".tsv": "\t", ".csv": None}


def open_workbook(path: Path, max_unzipped_bytes: int = 1 << 30, text_fallback: str = "auto") -> Workbook:
    """Open ``path`` with the reader for its extension, or raise ReadError.

    ``text_fallback``: the encoding of a text file without BOM that is not UTF-8 ("auto": Windows-1252, or
    Mac OS Roman when its lines end in CR only; "none": refuse it).
    """
    ext = path.suffix.lower()
    if ext == ".xlsx" or ext == ".xlsm":
        from aimport.readers.xlsx import XlsxWorkbook

        return XlsxWorkbook(path, max_unzipped_bytes)
    if ext in TEXT_EXTENSIONS:
        from aimport.readers.text import TextWorkbook

        return TextWorkbook(path, TEXT_EXTENSIONS[ext], text_fallback)
    if ext in (".xls", ".xlsb", ".ods"):
        raise ReadError(
            "UNSUPPORTED_FORMAT",
            f"{ext} files are not supported: save the file as Excel Workbook (.xlsx) "
            "or Unicode text (.txt) and drop it again",
        )
    raise ReadError(
        "UNSUPPORTED_FORMAT",
        f"unknown file extension {ext or '(none)'!r}: aimport reads .xlsx, .txt (tab-delimited) and .csv",
    )
