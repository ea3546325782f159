"""Every error code an import can end with: the one declaration of code, status, transient and meaning.

The ``.err`` file of an import holds exactly one :class:`ErrorCode`; ``scripts/gen_docs`` writes the
reference page (docs/reference/error-codes.md) from it and the service retries exactly the transient
ones. :class:`CodedError` is the one exception type that ends an import with a code; readers, header
checks and importers raise it (or a subclass).

"Is this the environment's fault?" is decided here and nowhere else (``tests/test_architecture.py``
checks it): :func:`cause_of` reads an OS error's ``errno`` or a SQLite error's result code, never its
text, and its :class:`Cause` says whether waiting can make the error pass (:func:`environment_trouble`).
"""

from __future__ import annotations

import errno
import sqlite3
from enum import Enum, StrEnum

__all__ = ["BY_CODE", "ERROR_CODES", "Cause", "CodedError", "ErrorCode", "cause_of", "environment_trouble",
           "state_code", "store_trouble"]


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
    FILE_UNREADABLE = ("FILE_UNREADABLE", "failed", False, "the file cannot be read: permission denied (EACCES, "
        "EPERM) or another error that is about the file, not the disk (an I/O error is STATE_UNWRITABLE)")
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
    DISK_FULL = ("DISK_FULL", "failed", True, "the state directory is full (ENOSPC, EDQUOT) while the import writes its "
        "scratch files; retried by the service like STORE_UNAVAILABLE, an .err only from a foreground `aimport import`")
    STATE_UNWRITABLE = ("STATE_UNWRITABLE", "failed", True, "the state directory cannot be written (read-only, EROFS), or "
        "a disk or network share failed with an I/O error (EIO) while the file was read or the import wrote; nothing "
        "was applied. Retried by the service, an .err only from a foreground `aimport import`")
    WORKER_CRASHED = ("WORKER_CRASHED", "failed", False, "a process of the import died (the worker, or the staging helper "
        "of a large sheet; e.g. out of memory or kill -9); nothing was applied")
    FILE_VANISHED = ("FILE_VANISHED", "failed", False, "after a restart, a file recorded as in process was neither in "
        "InProcess/ nor in History/")
    INTERNAL_ERROR = ("INTERNAL_ERROR", "failed", False, "a bug in aimport; the .log has the exception text")
    CAMPAIGN_EXISTS = ("CAMPAIGN_EXISTS", "failed", False, "a campaign with that name already exists; it was left unchanged "
        "(rename the file or set another Name)")
    REVERT_REFUSED = ("REVERT_REFUSED", "failed", False, "a revert (`aimport revert`) changed nothing: later imports "
        "changed the same items (listed in the .log; --force reverts anyway), a campaign already has call results, "
        "the import was already reverted, or its before-images were pruned")
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


class Cause(Enum):
    """Why reading or writing a file or a SQLite database failed, as far as whose fault it is goes.

    ``environment``: the disk, the share or the database's file is in trouble and waiting can make it pass
    (the service retries, the file is not at fault); otherwise the error is about the file being imported
    (its permissions, it is gone) or about nothing the environment explains.
    """

    FULL = ("full", True)  # ENOSPC, EDQUOT; SQLITE_FULL
    READ_ONLY = ("read-only", True)  # EROFS; SQLITE_READONLY
    IO_ERROR = ("I/O error", True)  # EIO; SQLITE_IOERR
    BUSY = ("busy", True)  # SQLITE_BUSY, SQLITE_LOCKED (another connection holds it)
    CANNOT_OPEN = ("cannot open", True)  # SQLITE_CANTOPEN
    DENIED = ("permission denied", False)  # EACCES, EPERM: the file's permissions, set by whoever dropped it
    GONE = ("not found", False)  # ENOENT: the file was removed
    OTHER = ("other", False)  # anything else (a bug, a damaged file, a statement the database refuses)

    label: str
    environment: bool

    def __init__(self, label: str, environment: bool) -> None:
        self.label, self.environment = label, environment


_BY_ERRNO = {errno.ENOSPC: Cause.FULL, errno.EDQUOT: Cause.FULL, errno.EROFS: Cause.READ_ONLY, errno.EIO: Cause.IO_ERROR,
             errno.EACCES: Cause.DENIED, errno.EPERM: Cause.DENIED, errno.ENOENT: Cause.GONE}
# SQLite primary result codes (extended codes such as SQLITE_IOERR_WRITE count by their primary code)
_BY_SQLITE_CODE = {sqlite3.SQLITE_FULL: Cause.FULL, sqlite3.SQLITE_READONLY: Cause.READ_ONLY,
                   sqlite3.SQLITE_IOERR: Cause.IO_ERROR, sqlite3.SQLITE_BUSY: Cause.BUSY,
                   sqlite3.SQLITE_LOCKED: Cause.BUSY, sqlite3.SQLITE_CANTOPEN: Cause.CANNOT_OPEN,
                   sqlite3.SQLITE_PERM: Cause.DENIED}


def cause_of(exc: BaseException) -> Cause:
    """The :class:`Cause` of ``exc``: an OS error by its ``errno``, a SQLite error by the driver's result code."""
    if isinstance(exc, OSError):
        return _BY_ERRNO.get(exc.errno or 0, Cause.OTHER)
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and isinstance(code, int):
        return _BY_SQLITE_CODE.get(code & 0xFF, Cause.OTHER)
    return Cause.OTHER


def environment_trouble(exc: BaseException) -> bool:
    """True when ``exc`` is the environment's fault (full, read-only, I/O error, busy, cannot open): retry later.

    ENOSPC, EDQUOT, EROFS and EIO are the environment; EACCES, EPERM and ENOENT are about the file.
    """
    return cause_of(exc).environment


def store_trouble(exc: BaseException) -> bool:
    """:func:`environment_trouble` for a SQLite error (the store's or the audit trail's file); False for any other."""
    return isinstance(exc, sqlite3.Error) and environment_trouble(exc)


def state_code(exc: OSError) -> ErrorCode:
    """The code of an import that could not write aimport's own files (the work log, scratch files), which is never
    the imported file's fault: DISK_FULL when the disk is full, STATE_UNWRITABLE otherwise."""
    return ErrorCode.DISK_FULL if cause_of(exc) is Cause.FULL else ErrorCode.STATE_UNWRITABLE
