"""Common reader records: raw sheets, workbooks, error cells and the read error."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from aimport.errors import CodedError

Row = list[Any]
Block = tuple[Sequence[int], list[Row]]  # (row numbers, rows): what ``RawSheet.blocks`` yields
BLOCK_ROWS = 2000


# Excel's error values: a cell holding one is never data (a failed lookup must not clear a stored value)
ERROR_VALUES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!",
    "#BLOCKED!", "#CONNECT!", "#FIELD!", "#BUSY!", "#UNKNOWN!", "#PYTHON!", "#EXTERNAL!",
})
DAYS_1904 = 1462  # a 1904-system serial plus this is the same day's 1900-system serial


class CellError(str):
    """A cell whose value is an error (``#N/A``, ``#REF!`` ...); its text is the error. Staging rejects the row."""

    __slots__ = ()


class Shown(str):
    """A number cell as its number format shows it: ``0000000000`` shows 401234567 as ``0401234567``.

    The reader gives one for a number cell whose format shows it otherwise than General does; the text is
    what a person sees in the cell, ``value`` the number stored (for number, date and Yes/No columns).
    """

    value: float | int

    def __new__(cls, text: str, value: float | int) -> Shown:
        self = super().__new__(cls, text)
        self.value = value
        return self


class ReadError(CodedError):
    """The file cannot be read; ``code`` goes to ``.err``, ``message`` to ``.log``."""


@dataclass
class RawSheet:
    """One sheet: a name and a stream of ``(row_number, values)`` (1-based rows)."""

    name: str
    rows: Callable[[], Iterator[tuple[int, Row]]]
    warnings: list[str] = field(default_factory=list)
    # the same rows in blocks of up to BLOCK_ROWS (cheaper per row); None: use ``rows``
    blocks: Callable[[], Iterator[Block]] | None = None
    date1904: bool = False  # plain-number date serials count from 1904-01-01 (the workbook's date system)
    hidden_rows: frozenset[int] = frozenset()  # 1-based numbers of the rows hidden (by a filter, by hand, an outline)

    def iter_blocks(self) -> Iterator[Block]:
        """The rows in blocks, from ``blocks`` when the reader has it, else chunked from ``rows``."""
        if self.blocks is not None:
            return self.blocks()
        return _chunked(self.rows())


def rebase_1904(blocks: Iterator[Block], columns: Sequence[int]) -> Iterator[Block]:
    """Blocks with the plain-number date serials in ``columns`` moved from the 1904 to the 1900 date system."""
    for nos, rows in blocks:
        for row in rows:
            for i in columns:
                if i < len(row) and type(row[i]) in (int, float):
                    row[i] += DAYS_1904
        yield nos, rows


def _chunked(rows: Iterator[tuple[int, Row]]) -> Iterator[Block]:
    while True:
        pairs = list(islice(rows, BLOCK_ROWS))
        if not pairs:
            return
        nos, block = zip(*pairs)
        yield nos, list(block)


class Workbook(Protocol):
    warnings: list[str]
    infos: list[str]  # INFO lines for the work log (sheets passed over: macro, dialog and chart sheets)
    hidden: dict[str, str]  # hidden sheets (name -> "hidden" | "veryHidden"); sheet_names() leaves them out

    def sheet_names(self) -> list[str]: ...

    def sheet(self, name: str) -> RawSheet: ...

    def close(self) -> None: ...
