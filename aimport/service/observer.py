"""What the service tells an observer (the metrics) about imports: one typed method per happening."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aimport.importing.outcome import Totals

__all__ = ["ImportObserver", "NoObserver"]


class ImportObserver(Protocol):
    """Hooks called by the scheduler, the jobs and archiving (aimport.service.metrics.Metrics implements them)."""

    def file_detected(self, import_type: str) -> None: ...

    def import_started(self, import_type: str) -> None: ...

    def import_finished(self, import_type: str) -> None: ...

    def import_done(self, import_type: str, status: str, totals: Totals | None, seconds: float) -> None: ...

    def archive_failed(self, import_type: str) -> None: ...

    def scanned(self) -> None: ...

    def limit_changed(self, n: int) -> None: ...

    def store_retried(self, n: int) -> None: ...  # store transactions an import ran again (deadlock, serialization)

    def store_turn(self, import_type: str, wait_s: float, hold_s: float | None) -> None: ...  # None: not taken


class NoObserver:
    """Nobody watching (the one-shot ``aimport import``, tests)."""

    def file_detected(self, import_type: str) -> None:
        pass

    def import_started(self, import_type: str) -> None:
        pass

    def import_finished(self, import_type: str) -> None:
        pass

    def import_done(self, import_type: str, status: str, totals: Totals | None, seconds: float) -> None:
        pass

    def archive_failed(self, import_type: str) -> None:
        pass

    def scanned(self) -> None:
        pass

    def limit_changed(self, n: int) -> None:
        pass

    def store_retried(self, n: int) -> None:
        pass

    def store_turn(self, import_type: str, wait_s: float, hold_s: float | None) -> None:
        pass
