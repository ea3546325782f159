"""Files held back for the office-hours window (large files dropped during office hours), with when they start.

Office hours are their own part of the service (another module holds them); the jobs view reads them from
the intake view when it offers them (an attribute or method ``held_files`` or ``held``: paths, or records
with a path or a type and file name, and a start time), and otherwise from the audit trail: the one
``held_for_window`` event each held file gets, for files still in their drop folder.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimport.layout import IMPORT_TYPES, Layout
from aimport.settings import Settings
from aimport.store import audit

__all__ = ["HeldFile", "held_files"]

START_NAMES = ("starts_at", "start_at", "starts", "start", "release_at", "until", "when")
LOOK_BACK = dt.timedelta(days=2)


@dataclass(frozen=True)
class HeldFile:
    type: str
    name: str  # the name in the drop folder
    starts_at: str | None  # ISO time the import will start (None: not known)


def held_files(intake: object | None, settings: Settings) -> list[HeldFile]:
    source = None
    for attr in ("held_files", "held"):
        source = getattr(intake, attr, None) if intake is not None else None
        if source is not None:
            break
    try:
        if source is not None:
            items = source() if callable(source) else source
            return _from_items(items.values() if isinstance(items, dict) else items, settings.layout)
        return _from_audit(settings)
    except (OSError, TypeError, ValueError, AttributeError, sqlite3.Error):
        return []  # the view never fails for want of this


def _pick(obj: Any, names: Iterable[str]) -> Any:
    for n in names:
        value = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if value is not None:
            return value
    return None


def _when(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return audit.now_iso(value if value.tzinfo else value.astimezone())
    if isinstance(value, int | float):
        return audit.now_iso(dt.datetime.fromtimestamp(value, dt.UTC))
    return str(value)


def _from_items(items: Iterable[Any], layout: Layout) -> list[HeldFile]:
    out = []
    for item in items:
        path = item if isinstance(item, Path) else _pick(item, ("path",))
        if path is not None:
            path = Path(path)
            t, name = layout.type_of(path), path.name
        else:
            t, name = _pick(item, ("type", "import_type")), _pick(item, ("file", "name", "file_name"))
        if t and name:
            out.append(HeldFile(str(t), str(name), _when(_pick(item, START_NAMES))))
    return out


def _from_audit(settings: Settings) -> list[HeldFile]:
    if not settings.audit_db.exists():
        return []
    since = audit.now_iso(dt.datetime.now(dt.UTC) - LOOK_BACK)
    latest: dict[tuple[str, str], HeldFile] = {}
    for e in audit.events_since(settings.audit_db, "held_for_window", since):
        detail = json.loads(e["detail"] or "{}")
        t, name = detail.get("type"), detail.get("file")
        if t in IMPORT_TYPES and isinstance(name, str) and Path(name).name == name \
                and (settings.layout.type_dir(t) / name).is_file():
            latest[(t, name)] = HeldFile(t, name, _when(_pick(detail, START_NAMES)))
    return list(latest.values())
