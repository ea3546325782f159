"""What every import job in the service needs, built once: settings, folders, audit trail, the one limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.layout import Layout
from aimport.service.claims import ClaimBook
from aimport.service.notify.events import NoNotifier, Notifier
from aimport.service.observer import ImportObserver, NoObserver
from aimport.service.statedisk import StateDisk
from aimport.settings import Settings
from aimport.store.audit import Audit

__all__ = ["JobContext"]


@dataclass
class JobContext:
    """What every job needs; built once by the service (or by ``aimport import`` for one file)."""

    settings: Settings
    layout: Layout
    audit: Audit
    audit_uuid: str
    # the one limit on imports at once (--max-concurrent): lanes and recovery hold a slot while a file is
    # claimed, imported and archived; SIGHUP changes its total_tokens
    limiter: anyio.CapacityLimiter
    observer: ImportObserver = field(default_factory=NoObserver)  # metrics hooks (aimport.service.metrics)
    in_flight: set[Path] = field(default_factory=set)
    state_disk: StateDisk = field(default_factory=StateDisk)  # audit writes waiting out a full state disk
    runner: Callable[[ImportRequest], Awaitable[ImportOutcome]] | None = None  # default: worker process
    retry_transient: bool = True  # the service retries disk/store trouble; a foreground import reports it
    notifier: Notifier = field(default_factory=NoNotifier)  # failed/partial imports told to notify_url (aimport.service.notify)
    claims: ClaimBook = field(init=False)  # import keys bound to the claimed files (aimport.service.claims)

    def __post_init__(self) -> None:
        self.claims = ClaimBook(self.settings.state_dir)

    def import_key(self, import_id: int) -> str:
        """The ledger key of an import claimed before claim records existed (audit uuid + import id)."""
        return f"{self.audit_uuid}-{import_id}"
