"""Every error code an import can end with: the one declaration of code, status, transient and meaning.

The ``.err`` file of an import holds exactly one of these codes. The callers still spell the codes as
strings; ``tests/test_docs.py`` checks that every code string in the package is declared here, and
``aimport.docsgen`` writes the reference page (docs/reference/error-codes.md) from this list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: str  # the import's status with this code: failed, partial, or "partial or failed"
    transient: bool  # the service retries the import (the file stays in InProcess/) instead of failing it
    meaning: str


ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("ROWS_REJECTED", "partial", False, "some rows were rejected (each has a REJECT line in the .log with "
              "sheet, row, column, reason); the rest were applied"),
    ErrorCode("ALL_ROWS_REJECTED", "failed", False, "every data row was rejected; nothing was applied"),
    ErrorCode("NO_ROWS", "failed", False, "the file (or sheet) has a header but no data rows, or the workbook has no sheets"),
    ErrorCode("EMPTY_FILE", "failed", False, "the file is 0 bytes"),
    ErrorCode("NO_HEADER", "failed", False, "no row in the first 10 looks like a header of this import type; when "
              "it looks like another type's header the .log names the folder it belongs in "
              "(partial when it skips one sheet of a Configuration workbook)"),
    ErrorCode("MISSING_COLUMN", "failed", False, "the header row has no identification column (Id or one of the "
              "type's keys; Directory also takes FirstName, LastName or Company to create), or a campaign's "
              "customers sheet lacks ExternalId or Phone1 (partial when it skips one sheet of a Configuration workbook)"),
    ErrorCode("WRONG_FOLDER", "failed", False, "the header row fits another import type better than this folder's "
              "(it holds all the columns this type knows and more of the other's); the .log names the folder it "
              "belongs in (partial when it skips one sheet of a Configuration workbook)"),
    ErrorCode("DUPLICATE_COLUMN", "failed", False, "the same column appears twice in the header row "
              "(partial when it skips one sheet of a Configuration workbook)"),
    ErrorCode("UNSUPPORTED_FORMAT", "failed", False, "extension is not .xlsx/.txt/.csv (e.g. .xls, .ods, .pdf), "
              "or a Configuration file that is not .xlsx"),
    ErrorCode("NOT_A_WORKBOOK", "failed", False, "a .xlsx that is not a zip, or a zip that is not an Excel workbook, "
              "or a damaged workbook"),
    ErrorCode("ENCRYPTED_WORKBOOK", "failed", False, "a password-protected workbook (or an old binary .xls renamed to .xlsx)"),
    ErrorCode("TOO_LARGE", "failed", False, "the workbook unpacks to more than --max-unzipped-mb (zip-bomb guard), "
              "or memory ran out"),
    ErrorCode("UNSAFE_XML", "failed", False, "a workbook part declares XML entities / DOCTYPE (XML-bomb guard)"),
    ErrorCode("BAD_ENCODING", "failed", False, "a text file that is not valid UTF-8 / UTF-16, or UTF-16 without a "
              "byte order mark"),
    ErrorCode("BAD_FORMAT", "failed", False, "a text file the CSV/tab parser cannot read"),
    ErrorCode("FILE_UNREADABLE", "failed", False, "the file cannot be read (permissions, I/O error)"),
    ErrorCode("NO_KNOWN_SHEET", "failed", False, "a Configuration workbook without any known sheet"),
    ErrorCode("NO_VISIBLE_SHEET", "failed", False, "every sheet of the workbook is hidden: nothing a person sees "
              "would be imported; unhide the sheet to import"),
    ErrorCode("NOT_SUPPORTED_YET", "failed", False, "an import type without an importer (kept for folders added in "
              "the future; none of the ten folders gives it)"),
    ErrorCode("STORE_UNAVAILABLE", "failed", True, "the system store could not be written (locked, read-only, disk "
              "full) and the error is about the store's file, not the input. The service retries it (an "
              "import_deferred event, the file stays in InProcess/), so it reaches an .err only from a foreground "
              "`aimport import` or a store error that is not about the environment"),
    ErrorCode("FILE_CHANGED", "failed", False, "the file changed (or was still being written) while it was imported; "
              "nothing was applied. Never final in the service: the file waits in InProcess/ until it is stable "
              "and is imported again from scratch (a file_changed event)"),
    ErrorCode("DISK_FULL", "failed", True, "the state directory is full while the import writes its scratch files; "
              "retried by the service like STORE_UNAVAILABLE, an .err only from a foreground `aimport import`"),
    ErrorCode("STATE_UNWRITABLE", "failed", True, "the state directory is read-only; retried by the service, an .err "
              "only from a foreground `aimport import`"),
    ErrorCode("WORKER_CRASHED", "failed", False, "the import worker process died (e.g. out of memory); nothing was applied"),
    ErrorCode("FILE_VANISHED", "failed", False, "after a restart, a file recorded as in process was neither in "
              "InProcess/ nor in History/"),
    ErrorCode("INTERNAL_ERROR", "failed", False, "a bug in aimport; the .log has the exception text"),
    ErrorCode("CAMPAIGN_EXISTS", "failed", False, "a campaign with that name already exists; it was left unchanged "
              "(rename the file or set another Name)"),
    ErrorCode("CAMPAIGN_INVALID", "partial or failed", False, "the campaign was created but not started (Invalid): "
              "unknown script or queue, bad dates (EndDate before StartDate or already passed), missing "
              "CopySettingsFrom campaign, or no valid customers (then failed); reasons in the .log"),
)

BY_CODE: dict[str, ErrorCode] = {e.code: e for e in ERROR_CODES}
