"""What an import is asked to do and what it ended with: the request, the outcome and their error types.

Both importers (the generic item engine in :mod:`aimport.importing.items` and the campaign importer
in :mod:`aimport.campaigns.importer`) and the service side use these records; this module imports no
importer, so none of them depends on another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aimport.errors import BY_CODE, CodedError, ErrorCode
from aimport.importing import filestate
from aimport.store.db import StoreAddress

if TYPE_CHECKING:
    from aimport.importing.worklog import ImportLog

__all__ = [
    "FileChanged",
    "FileFailure",
    "ImportFunction",
    "ImportOutcome",
    "ImportRequest",
    "Progress",
    "SheetTotals",
    "Status",
    "Totals",
    "counts",
]

Progress = Callable[[str, int], None]  # (what is being done, rows so far)


class Status(StrEnum):
    """How an import ended (the ``status`` of its ``.result`` and audit row)."""

    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"  # an operator cancelled the file before it was claimed: nothing applied (aimport.service.cancels)


@dataclass(frozen=True)
class Totals:
    """The row counts of an import (or of one sheet)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Totals)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, counts: dict[str, Any] | None) -> Totals | None:
        """The counts stored as a dict (the ledger); None for an empty dict (no rows were counted)."""
        if not counts:
            return None
        return cls(*(int(counts.get(f.name, 0)) for f in fields(cls)))


@dataclass(frozen=True)
class SheetTotals:
    """One sheet's counts: the sheet, the item type it held and its six row counts."""

    sheet: str
    item: str
    totals: Totals = Totals()

    def as_dict(self) -> dict[str, Any]:
        """The stored form (ledger, ``check --json``, the CLI table): ``sheet``, ``item`` and the six counts."""
        return {"sheet": self.sheet, "item": self.item, **self.totals.as_dict()}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> SheetTotals:
        """A sheet's counts as :meth:`as_dict` stored them in the ledger (a missing count is 0)."""
        return cls(str(stored.get("sheet", "")), str(stored.get("item", "")), Totals.from_dict(stored) or Totals())


def counts(totals: Totals | None) -> dict[str, int]:
    """``totals`` as a dict for audit details and JSON output; ``{}`` when no rows were counted."""
    return totals.as_dict() if totals is not None else {}


@dataclass
class ImportRequest:
    path: Path
    import_type: str
    import_key: str  # ledger key, unique per import
    store_address: StoreAddress  # a SQLite file or a postgresql:// URL
    work_dir: Path
    actor: str
    dry_run: bool = False
    max_unzipped_bytes: int = 1 << 30
    campaign_template: str = "Template"
    log_path: Path | None = None
    date_order: str = "auto"  # settings.date_order: how text dates are read (values.date_order)
    text_fallback_encoding: str = "auto"  # settings.text_fallback_encoding ("none": refuse non-UTF-8 text)
    phone_region: str = ""  # settings.phone_region: the region national phone numbers are read in ("": none)
    hidden_rows: str = "import"  # settings.hidden_rows: import | skip | reject rows hidden in a sheet
    stage_helper: bool = True  # a large sheet may use a second process (a core is free: the service decides)
    expect: filestate.FileIdentity | None = None  # the file as claimed: any change before COMMIT rolls back
    sha256: str = ""  # the hash of the file as ``expect`` (hashed by the service; empty: the worker hashes it)
    check_writers: bool = False  # a process holding the file open for writing counts as a change
    diff: bool = False  # a dry run lists every change (``aimport check --diff``): ImportOutcome.changes


@dataclass(frozen=True)
class PhaseTimes:
    """Milliseconds of the two stages of an item import: read, check and stage; then apply and commit; and of the
    apply, the wait for the store's write turn and how long it was held (to COMMIT)."""

    stage_ms: int
    apply_ms: int
    turn_wait_ms: int = 0
    turn_hold_ms: int = 0

    def turn_ms(self) -> tuple[int, int]:
        return self.turn_wait_ms, self.turn_hold_ms


@dataclass
class ImportOutcome:
    status: Status
    error_code: ErrorCode | None
    sha256: str
    totals: Totals | None = None  # None: the import stopped before it counted rows
    sheets: list[SheetTotals] = field(default_factory=list)  # per sheet: sheet, item and the six counts
    log_path: Path | None = None
    error: str = ""  # the environment's error text (store, state disk) or what changed in the file
    environmental: bool = True  # False: a store error the driver says is not about the environment (not retried)
    result_fields: dict[str, str | int] = field(default_factory=dict)  # extra .result lines (campaign, ...)
    log_text: str = ""  # the work log, when the request had no log_path (a dry-run check)
    store_retries: int = 0  # transactions the store gave up (deadlock, serialization) and the import ran again
    phases: PhaseTimes | None = None  # where the worker's time went (the ``finished`` audit event keeps it)
    changes: list[Any] = field(default_factory=list)  # a dry run with ``diff``: aimport.undo.listing.ItemChange

    @property
    def transient(self) -> bool:
        """Nothing was applied and the file is not at fault: the service imports it again later."""
        return self.error_code is not None and self.error_code.transient and self.environmental

    def ledger_stats(self) -> dict[str, Any]:
        """The ``stats`` JSON the ledger keeps for this outcome (read back by :meth:`from_ledger`)."""
        stats: dict[str, Any] = {"totals": counts(self.totals), "sheets": [s.as_dict() for s in self.sheets]}
        if self.result_fields:
            stats["result_fields"] = self.result_fields
        return stats

    @classmethod
    def from_ledger(cls, row: dict[str, Any], log_path: Path | None) -> ImportOutcome:
        """The outcome as the store's ledger recorded it (``store.ledger_get``)."""
        stats = row["stats"]
        code = row["error_code"]
        return cls(Status(row["status"]), BY_CODE[code] if code else None, row["sha256"],
                   Totals.from_dict(stats.get("totals")),
                   [SheetTotals.from_dict(s) for s in stats.get("sheets", [])], log_path,
                   result_fields=stats.get("result_fields", {}))


class FileFailure(CodedError):
    """The file as a whole cannot be imported (no sheets, a campaign that exists ...)."""


class FileChanged(Exception):
    """The file changed while it was imported: roll back, nothing is ledgered (the service imports it again)."""


class ImportFunction(Protocol):
    """Imports one file of one import type: returns the outcome (committed) or raises a :class:`CodedError`."""

    def __call__(self, req: ImportRequest, log: ImportLog, digest: str, progress: Progress | None) -> ImportOutcome: ...
