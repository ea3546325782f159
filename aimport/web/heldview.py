"""Files held back for the office-hours window (large files dropped during office hours), with when they start.

The scheduler knows them (``held_files()``: aimport.service.lanes / aimport.service.officehours.holds). The jobs view
reads them through that one method, defensively: a scheduler without it, or a record without one of the
fields read here, shows no held file rather than failing the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimport.layout import Layout
from aimport.store.audit import now_iso

__all__ = ["HeldRow", "held_files"]


@dataclass(frozen=True)
class HeldRow:
    type: str
    name: str  # the name in the drop folder
    starts_at: str | None  # ISO UTC time the import will start (None: only `aimport release` starts it)
    reason: str  # the threshold it is above, e.g. "about 250000 rows (large_file_rows 100000)"
    estimated_rows: int | None = None  # about how many data rows it holds (None: not known)


def held_files(intake: object | None, layout: Layout) -> list[HeldRow]:
    source = getattr(intake, "held_files", None)
    if not callable(source):
        return []
    out = []
    try:
        for item in source():
            path = getattr(item, "path", None)
            t = layout.type_of(Path(path)) if path is not None else None
            if t is not None and path is not None:
                rows = getattr(item, "estimated_rows", None)
                out.append(HeldRow(t, Path(path).name, _when(getattr(item, "starts_at", None)),
                                    str(getattr(item, "reason", "") or ""), rows if isinstance(rows, int) else None))
    except (TypeError, ValueError, AttributeError):
        return []  # the page never fails for want of this
    return out


def _when(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return now_iso(value if value.tzinfo else value.astimezone())
    return None if value is None else str(value)
