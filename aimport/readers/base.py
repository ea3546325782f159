"""Common reader records and the choice of reader by extension."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

Row = list[Any]
Block = tuple[Sequence[int], list[Row]]  # (row numbers, rows): what ``RawSheet.blocks`` yields
BLOCK_ROWS = 2000


class ReadError(Exception):
    """The file cannot be read; ``code`` goes to ``.err``, ``message`` to ``.log``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RawSheet:
    """One sheet: a name and a stream of ``(row_number, values)`` (1-based rows)."""

    name: str
    rows: Callable[[], Iterator[tuple[int, Row]]]
    warnings: list[str] = field(default_factory=list)
    # the same rows in blocks of up to BLOCK_ROWS (cheaper per row); None: use ``rows``
    blocks: Callable[[], Iterator[Block]] | None = None

    def iter_blocks(self) -> Iterator[Block]:
        """The rows in blocks, from ``blocks`` when the reader has it, else chunked from ``rows``."""
        if self.blocks is not None:
            return self.blocks()
        return _chunked(self.rows())


def _chunked(rows: Iterator[tuple[int, Row]]) -> Iterator[Block]:
    while True:
        pairs = list(islice(rows, BLOCK_ROWS))
        if not pairs:
            return
        nos, block = zip(*pairs)
        yield nos, list(block)


class Workbook(Protocol):
    warnings: list[str]

    def sheet_names(self) -> list[str]: ...

    def sheet(self, name: str) -> RawSheet: ...

    def close(self) -> None: ...


TEXT_EXTENSIONS = {".txt": "\t", ".tsv": "\t", ".csv": None}


def open_workbook(path: Path, max_unzipped_bytes: int = 1 << 30) -> Workbook:
    """Open ``path`` with the reader for its extension, or raise ReadError."""
    ext = path.suffix.lower()
    if ext == ".xlsx" or ext == ".xlsm":
        from aimport.readers.xlsx import XlsxWorkbook

        return XlsxWorkbook(path, max_unzipped_bytes)
    if ext in TEXT_EXTENSIONS:
        from aimport.readers.text import TextWorkbook

        return TextWorkbook(path, TEXT_EXTENSIONS[ext])
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
