"""What the service tells a webhook, and the narrow interface it tells it through.

Each happening is one :class:`Notification`; the service hands it to a :class:`Notifier`, whose
:meth:`~Notifier.post` returns at once (the outbox sends it later, on its own task): telling never delays an
import, never holds an import slot and never waits for the network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["CAMPAIGN_EXPORTED", "EVENTS", "FILE_HELD", "IMPORT_FAILED", "IMPORT_PARTIAL", "SERVICE_STARTED",
           "SERVICE_STOPPED", "NoNotifier", "Notification", "Notifier", "campaign_exported", "file_held",
           "import_ended", "service_started", "service_stopped"]

IMPORT_FAILED = "import_failed"
IMPORT_PARTIAL = "import_partial"
FILE_HELD = "file_held"
CAMPAIGN_EXPORTED = "campaign_exported"
SERVICE_STARTED = "service_started"
SERVICE_STOPPED = "service_stopped"
EVENTS = (IMPORT_FAILED, IMPORT_PARTIAL, FILE_HELD, CAMPAIGN_EXPORTED, SERVICE_STARTED, SERVICE_STOPPED)


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(frozen=True)
class Notification:
    """One happening, in the fields every format is built from (aimport.service.notify.payloads)."""

    event: str  # one of EVENTS
    title: str  # one line: what happened ("Skills import of a.xlsx failed")
    message: str = ""  # more about it (the reason, what happens next)
    import_id: int | None = None
    type: str | None = None  # the import type (its drop folder)
    file: str | None = None  # the file as dropped (campaign_exported: the export's name in Export/)
    status: str | None = None  # failed | partial (imports)
    error_code: str | None = None
    rejected: int | None = None  # rows rejected (imports)
    campaign: str | None = None  # campaign_exported
    held_since: dt.datetime | None = None  # file_held
    time: dt.datetime = field(default_factory=_now)
    unit: str = ""  # SERVER_UNIT (filled in by the outbox)
    link: str | None = None  # the import in the jobs view (filled in by the outbox when --http is set)
    log: Path | None = None  # the import's .log in History/: its first ERROR (or REJECT) line is the reason


class Notifier(Protocol):
    """Where the service tells what happened; ``post`` returns at once and never raises."""

    def post(self, note: Notification) -> None: ...


class NoNotifier:
    """No ``notify_url``: nothing is told (also the one-shot ``aimport import`` and tests)."""

    def post(self, note: Notification) -> None:
        pass


def import_ended(import_id: int, import_type: str, file: str, status: str, error_code: str | None,
                 rejected: int, rows: int, error: str = "", log: Path | None = None) -> Notification | None:
    """The notification of an import that ended ``failed`` or ``partial`` (None for any other status)."""
    if status not in ("failed", "partial"):
        return None
    if status == "failed":
        event, title = IMPORT_FAILED, f"{import_type} import of {file} failed" + (f" ({error_code})" if error_code
                                                                                  else "")
        message = error or "Nothing was applied."
    else:
        event, title = IMPORT_PARTIAL, f"{import_type} import of {file} was partial: {rejected} of {rows} row(s) " \
                                       "rejected"
        message = error or "The other rows were applied; the .log has a REJECT line for each rejected row."
    return Notification(event, title, message, import_id=import_id, type=import_type, file=file, status=status,
                        error_code=error_code, rejected=rejected, log=log)


def file_held(file: str, import_type: str, held_at: dt.datetime, minutes: int, reason: str,
              starts: str | None) -> Notification:
    """A large file held in its drop folder for ``minutes`` or more (notify_held_after_min)."""
    when = f"when office hours end ({starts})" if starts else "only when released (office hours do not end)"
    return Notification(FILE_HELD, f"{file} ({import_type}) has been held for {minutes} min or more",
                        f"It is large ({reason}) and waits in its drop folder; it starts {when}, or now with "
                        f"`aimport release {file}`.", type=import_type, file=file, held_since=held_at)


def campaign_exported(detail: dict[str, Any]) -> Notification:
    """A campaign's export written to Export/ (the supervisor's ``campaign_exported`` event detail)."""
    name, file = str(detail.get("campaign", "")), str(detail.get("file", ""))
    message = f"Export/{file} holds its {detail.get('rows', 0)} customer row(s)."
    if detail.get("warning"):
        message = str(detail["warning"])
    return Notification(CAMPAIGN_EXPORTED, f"Campaign {name} exported", message, type="OutboundCampaign",
                        file=file, campaign=name)


def service_started(root: str, max_concurrent: int, enabled: bool) -> Notification:
    watching = f"watching {root}" if enabled else f"automatic import disabled (root {root})"
    return Notification(SERVICE_STARTED, "aimport started", f"{watching}; at most {max_concurrent} import(s) at once.")


def service_stopped() -> Notification:
    return Notification(SERVICE_STOPPED, "aimport stopped", "No file is taken until it starts again; dropped files "
                        "wait in their folders.")
