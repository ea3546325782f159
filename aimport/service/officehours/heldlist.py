"""What a service tells other processes about its held files, and what they ask of it (no server needed).

- ``STATE/held.json``: the files held now, with the service's office hours; written by the service
  (aimport.service.officehours.holds), read by ``aimport status`` and ``aimport release``.
- ``STATE/releases/<digest>.json``: one request per ``aimport release FILE``; the service acts on it at
  its next folder check and removes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimport.atomicfile import write_atomic
from aimport.service.officehours.schedule import OfficeHours
from aimport.settings import SettingsError

__all__ = ["HELD_LIST", "RELEASES", "RELEASE_CHECK_S", "HeldFile", "HeldList", "read_held", "read_request",
           "read_requests", "release_request_path", "request_release", "write_held"]

HELD_LIST = "held.json"  # STATE/held.json
RELEASES = "releases"  # STATE/releases/<digest>.json: one request per `aimport release`
RELEASE_CHECK_S = 2.0  # a running service reads the requests (and looks at its held files) this often


@dataclass(frozen=True)
class HeldFile:
    """A file waiting in its drop folder for the end of office hours."""

    path: Path
    import_type: str
    size_bytes: int
    estimated_rows: int | None  # None: not a kind of file whose rows can be estimated (or unreadable)
    held_at: dt.datetime
    starts_at: dt.datetime | None  # when office hours end; None: they never do (only `aimport release` starts it)
    reason: str  # the threshold it is above, e.g. "about 250000 rows (large_file_rows 100000)"

    @property
    def starts(self) -> str | None:
        """``starts_at`` as the audit trail and held.json give it (ISO-8601 to the minute, the zone's offset)."""
        return self.starts_at.isoformat(timespec="minutes") if self.starts_at else None

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "file": self.path.name, "type": self.import_type,
                "size_bytes": self.size_bytes, "estimated_rows": self.estimated_rows,
                "held_at": self.held_at.isoformat(timespec="seconds"), "starts_at": self.starts, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HeldFile:
        starts = d.get("starts_at")
        return cls(Path(d["path"]), str(d["type"]), int(d["size_bytes"]),
                   None if d.get("estimated_rows") is None else int(d["estimated_rows"]),
                   dt.datetime.fromisoformat(d["held_at"]), dt.datetime.fromisoformat(starts) if starts else None,
                   str(d.get("reason", "")))


@dataclass(frozen=True)
class HeldList:
    """STATE/held.json as another process reads it."""

    files: list[HeldFile]  # held now and still in their drop folder
    office_hours: str = ""  # the service's office_hours and time_zone
    time_zone: str = ""

    def schedule(self) -> OfficeHours | None:
        try:
            return OfficeHours.parse(self.office_hours, self.time_zone) if self.office_hours else None
        except SettingsError:
            return None


def write_held(state_dir: Path, listed: HeldList) -> None:
    """Write STATE/held.json (atomically: a reader sees the old list or the new one)."""
    write_atomic(state_dir / HELD_LIST, json.dumps({"pid": os.getpid(), "office_hours": listed.office_hours,
                                                    "time_zone": listed.time_zone,
                                                    "files": [f.as_dict() for f in listed.files]}, indent=2) + "\n")


def read_held(state_dir: Path) -> HeldList:
    """What a service listed in STATE/held.json: its held files that are still in their drop folder."""
    try:
        data = json.loads((state_dir / HELD_LIST).read_text(encoding="utf-8"))
        files = [HeldFile.from_dict(d) for d in data.get("files", [])]
        return HeldList([f for f in files if f.path.is_file()], str(data.get("office_hours") or ""),
                        str(data.get("time_zone") or ""))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return HeldList([])


def release_request_path(state_dir: Path, path: Path) -> Path:
    """Where the release request for the held file ``path`` is written (one per file: asking twice is once)."""
    digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return state_dir / RELEASES / f"{digest}.json"


def request_release(state_dir: Path, held: HeldFile, requested_by: str) -> Path:
    """Ask the service to start ``held`` now (``aimport release``); returns the request file."""
    request = release_request_path(state_dir, held.path)
    request.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    write_atomic(request, json.dumps({"path": str(held.path), "type": held.import_type,
                                      "requested_by": requested_by,
                                      "requested_at": dt.datetime.now().astimezone().isoformat(timespec="seconds")},
                                     indent=2) + "\n")
    return request


def read_request(request: Path) -> tuple[str, str]:
    """(the held file's path, who asked) of one request file; OSError when there is none, ValueError when it is not
    a request."""
    data = json.loads(request.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise ValueError(f"{request} is not a release request")
    return data["path"], str(data.get("requested_by") or "")


def read_requests(state_dir: Path, skip: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, str], list[Path]]:
    """The release requests: (held file path -> who asked, requests that cannot be read); ``skip``: names to pass."""
    try:
        entries = [e for e in os.scandir(state_dir / RELEASES)
                   if e.name.endswith(".json") and not e.name.startswith(".") and e.name not in skip]
    except OSError:
        return {}, []
    requests: dict[str, str] = {}
    unreadable = []
    for e in entries:
        try:
            path, by = read_request(Path(e.path))
            requests[path] = by
        except (OSError, ValueError):
            unreadable.append(Path(e.path))
    return requests, unreadable
