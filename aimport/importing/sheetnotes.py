"""What staging tells about a sheet besides its rejected rows: phones read from number cells, hidden rows.

Both importers (the item engine's :mod:`aimport.importing.stage` and the campaign importer) report them
the same way: WARNING lines in the work log and counts for the ``.result`` (``ImportLog.tally``).
"""

from __future__ import annotations

from aimport.importing.worklog import ImportLog
from aimport.itemtypes.values import ValueNotes
from aimport.readers.hiddenrows import REASON, HiddenRows

__all__ = ["LISTED_PHONES", "note_phones_from_numbers", "report_hidden_rows"]

LISTED_PHONES = 20  # phones from number cells named one WARNING line each; the .result counts them all


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


def report_hidden_rows(hidden: HiddenRows, sheet: str, log: ImportLog) -> int:
    """The WARNING and ``hidden_rows`` count of a sheet's hidden data rows (a REJECT line each with the policy
    ``reject``); returns how many rows were rejected that way (0 otherwise)."""
    message = hidden.message(sheet)
    if message is None:
        return 0
    log.tally("hidden_rows", len(hidden.seen))
    log.warning(message)
    if hidden.policy != "reject":
        return 0
    for row_no in hidden.seen:
        log.rejected(sheet, row_no, None, REASON)
    return len(hidden.seen)
