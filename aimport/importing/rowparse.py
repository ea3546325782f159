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

from aimport.importing.worklog import ImportLog
from aimport.itemtypes.schema import Field
from aimport.itemtypes.values import Invalid, ValueNotes, parse

__all__ = ["NUL_REASON", "Column", "Converter", "Rejection", "note_phones_from_numbers", "parse_cells"]

LISTED_PHONES = 20  # phones from number cells named one WARNING line each; the .result counts them all

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


def note_phones_from_numbers(log: ImportLog, notes: ValueNotes, sheet: str, row_no: int, accepted: bool) -> None:
    """WARNING lines for the phones a row took from number cells (the first ``LISTED_PHONES`` of the file), and
    their count for the ``.result`` (``phones_from_numbers``); a rejected row's are dropped."""
    found, notes.from_numbers[:] = list(notes.from_numbers), []
    if not found or not accepted:
        return
    for column, stored in found:
        listed = log.tallies.get("phones_from_numbers", 0)
        log.tally("phones_from_numbers")
        if listed < LISTED_PHONES:
            hint = ("it was read as a national number of " + notes.phone_region if notes.phone_region and
                    stored.startswith("+") else "set phone_region to read such numbers as national numbers"
                    if not notes.phone_region else "check it")
            log.warning(f"sheet {sheet!r} row {row_no} column {column}: the phone number {stored} was read from a "
                        f"number cell, so a leading 0 or + may be gone ({hint}); format the column as Text in the "
                        "sheet")
        elif listed == LISTED_PHONES:
            log.warning("more phone numbers were read from number cells: the .result counts them all "
                        "(phones_from_numbers)")
