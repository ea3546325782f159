"""Every error code an import can end with: the one declaration of code, status, transient and meaning.

The ``.err`` file of an import holds exactly one :class:`ErrorCode`; ``aimport.docsgen`` writes the
reference page (docs/reference/error-codes.md) from it and the service retries exactly the transient
ones. :class:`CodedError` is the one exception type that ends an import with a code; readers, header
checks and importers raise it (or a subclass). :func:`store_trouble` tells whether a SQLite error is
about the environment (busy, locked, full, I/O, cannot open, read-only) from the driver's error code.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum

__all__ = ["BY_CODE", "ERROR_CODES", "CodedError", "ErrorCode", "store_trouble"]


class ErrorCode(StrEnum):
    """An import's error code; the member's value is the code text written to ``.err``."""

    status: str  # the import's status with this code: failed, partial, or "partial or failed"
    transient: bool  # the service retries the import (the file stays in InProcess/) instead of failing it
    meaning: str

    def __new__(cls, code: str, status: str, transient: bool, meaning: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status, member.transient, member.meaning = status, transient, meaning
        return member

    @property
    def code(self) -> str:
        return self.value

    ROWS_REJECTED = ("ROWS_REJECTED", "partial", False, "some rows were rejected (each has a REJECT line in the .log with "
        "sheet, row, column, reason); the rest were applied")
    ALL_ROWS_REJECTED = ("ALL_ROWS_REJECTED", "failed", False, "every data row was rejected; nothing was applied")
    NO_ROWS = ("NO_ROWS", "failed", False, "the file (or sheet) has a header but no data rows, or the workbook has no sheets")
    EMPTY_FILE = ("EMPTY_FILE", "failed", False, "the file is 0 bytes")
    NO_HEADER = ("NO_HEADER", "failed", False, "no row in the first 10 looks like a header of this import type; when "
        "it looks like another type's header the .log names the folder it belongs in "
        "(partial when it skips one sheet of a Configuration workbook)")
    MISSING_COLUMN = ("MISSING_COLUMN", "failed", False, "the header row has no identification column (Id or one of the "
        "type's keys; Directory also takes FirstName, LastName or Company to create), or a campaign's "
        "customers sheet lacks ExternalId or Phone1 (partial when it skips one sheet of a Configuration workbook)")
    WRONG_FOLDER = ("WRONG_FOLDER", "failed", False, "the header row fits another import type better than this folder's "
        "(it holds all the columns this type knows and more of the other's); the .log names the folder it "
        "belongs in (partial when it skips one sheet of a Configuration workbook)")
    DUPLICATE_COLUMN = ("DUPLICATE_COLUMN", "failed", False, "the same column appears twice in the header row "
        "(partial when it skips one sheet of a Configuration workbook)")
    UNSUPPORTED_FORMAT = ("UNSUPPORTED_FORMAT", "failed", False, "extension is not .xlsx/.txt/.csv (e.g. .xls, .ods, .pdf), "
        "or a Configuration file that is not .xlsx")
    NOT_A_WORKBOOK = ("NOT_A_WORKBOOK", "failed", False, "a .xlsx that is not a zip, or a zip that is not an Excel workbook, "
        "or a damaged workbook")
    ENCRYPTED_WORKBOOK = ("ENCRYPTED_WORKBOOK", "failed", False, "a password-protected workbook (or an old binary .xls renamed to .xlsx)")
    TOO_LARGE = ("TOO_LARGE", "failed", False, "the workbook unpacks to more than --max-unzipped-mb (zip-bomb guard), "
        "or memory ran out")
    UNSAFE_XML = ("UNSAFE_XML", "failed", False, "a workbook part declares XML entities / DOCTYPE (XML-bomb guard)")
    BAD_ENCODING = ("BAD_ENCODING", "failed", False, "a text file that is not valid UTF-8 / UTF-16, or UTF-16 without a "
        "byte order mark")
    BAD_FORMAT = ("BAD_FORMAT", "failed", False, "a text file the CSV/tab parser cannot read")
    FILE_UNREADABLE = ("FILE_UNREADABLE", "failed", False, "the file cannot be read (permissions, I/O error)")
    NO_KNOWN_SHEET = ("NO_KNOWN_SHEET", "failed", False, "a Configuration workbook without any known sheet")
    NO_VISIBLE_SHEET = ("NO_VISIBLE_SHEET", "failed", False, "every sheet of the workbook is hidden: nothing a person sees "
        "would be imported; unhide the sheet to import")
    NOT_SUPPORTED_YET = ("NOT_SUPPORTED_YET", "failed", False, "an import type without an importer (kept for folders added in "
        "the future; none of the ten folders gives it)")
    STORE_UNAVAILABLE = ("STORE_UNAVAILABLE", "failed", True, "the system store could not be written (locked, read-only, disk "
        "full) and the error is about the store's file, not the input. The service retries it (an "
        "import_deferred event, the file stays in InProcess/), so it reaches an .err only from a foreground "
        "`aimport import` or a store error that is not about the environment")
    FILE_CHANGED = ("FILE_CHANGED", "failed", False, "the file changed (or was still being written) while it was imported; "
        "nothing was applied. Never final in the service: the file waits in InProcess/ until it is stable "
        "and is imported again from scratch (a file_changed event)")
    DISK_FULL = ("DISK_FULL", "failed", True, "the state directory is full while the import writes its scratch files; "
        "retried by the service like STORE_UNAVAILABLE, an .err only from a foreground `aimport import`")
    STATE_UNWRITABLE = ("STATE_UNWRITABLE", "failed", True, "the state directory is read-only; retried by the service, an .err "
        "only from a foreground `aimport import`")
    WORKER_CRASHED = ("WORKER_CRASHED", "failed", False, "a process of the import died (the worker, or the staging helper "
        "of a large sheet; e.g. out of memory or kill -9); nothing was applied")
    FILE_VANISHED = ("FILE_VANISHED", "failed", False, "after a restart, a file recorded as in process was neither in "
        "InProcess/ nor in History/")
    INTERNAL_ERROR = ("INTERNAL_ERROR", "failed", False, "a bug in aimport; the .log has the exception text")
    CAMPAIGN_EXISTS = ("CAMPAIGN_EXISTS", "failed", False, "a campaign with that name already exists; it was left unchanged "
        "(rename the file or set another Name)")
    CAMPAIGN_INVALID = ("CAMPAIGN_INVALID", "partial or failed", False, "the campaign was created but not started (Invalid): "
        "unknown script or queue, bad dates (EndDate before StartDate or already passed), missing "
        "CopySettingsFrom campaign, or no valid customers (then failed); reasons in the .log")


ERROR_CODES: tuple[ErrorCode, ...] = tuple(ErrorCode)
BY_CODE: dict[str, ErrorCode] = {e.value: e for e in ErrorCode}


class CodedError(Exception):
    """An error that ends an import: ``code`` goes to ``.err``, ``message`` to the ``.log``."""

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        super().__init__(message)
        self.code = code if isinstance(code, ErrorCode) else BY_CODE[code]
        self.message = message


# SQLite primary result codes that mean the store's environment failed, not the statement or the data
_STORE_TROUBLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR,
                            sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY})


def store_trouble(exc: BaseException) -> bool:
    """True when ``exc`` is a SQLite error about the environment (it may pass by waiting), from the driver's code.

    Extended codes (``SQLITE_IOERR_WRITE``, ``SQLITE_BUSY_SNAPSHOT`` ...) count by their primary code.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and isinstance(code, int) and code & 0xFF in _STORE_TROUBLE
