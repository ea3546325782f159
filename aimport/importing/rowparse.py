"""One row's cells parsed for a list of columns: the values, or the cell that rejects the row.

The one cell-by-cell rule set for a row, shared by staging (``Stage._parse_row``) and the campaign
importer's customers: empty and whitespace-only cells are left out, a NUL character rejects the row,
stripped text cells of the commonest kinds take a fast converter (``FAST_TEXT``: text with its length
limit, phone), every other cell goes through ``parse`` (error values such as ``#N/A`` are rejected there).
What a caller adds on top (mandatory columns, the Delete flag, duplicate keys) stays with the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aimport.itemtypes.schema import Field
from aimport.itemtypes.values import Invalid, parse

__all__ = ["NUL_REASON", "Column", "Converter", "Rejection", "parse_cells"]

NUL_REASON = "the cell holds a NUL character (an invisible control character); remove it and import the row again"
Converter = Callable[[Field, Any], Any]
Column = tuple[int, Field, Callable[[Field, str], Any] | None]  # (cell index, field, fast converter for text or None)


@dataclass(frozen=True, slots=True)
class Rejection:
    """The first cell of a row that cannot be accepted: its column and a reason a person can act on."""

    column: str
    reason: str


def parse_cells(columns: Sequence[Column], row: Sequence[Any], convert: Converter = parse) -> dict[str, Any] | Rejection:
    """Parsed values by field name (empty cells left out), or the Rejection of the first bad cell in column order.

    ``convert`` parses a non-empty cell that has no fast converter (default ``parse``); a caller may wrap it
    to handle a column of its own (staging's Delete flag), raising ``Invalid`` to reject the row.
    """
    values: dict[str, Any] = {}
    width = len(row)
    for idx, f, fast in columns:
        raw = row[idx] if idx < width else None
        if raw is None:
            continue
        if type(raw) is str:
            text = raw.strip()
            if not text:
                continue
            if "\x00" in text:  # never shown by a spreadsheet, never stored: the row says where it is
                return Rejection(f.name, NUL_REASON)
            if fast is not None:  # text and phone cells, the common case, kept fast
                try:
                    values[f.name] = fast(f, text)
                except Invalid as exc:
                    return Rejection(f.name, str(exc))
                continue
        try:
            values[f.name] = convert(f, raw)
        except Invalid as exc:
            return Rejection(f.name, str(exc))
    return values

