"""Fault injection for the crash tests: ``AIMPORT_FAULT=point`` kills the service there.

``AIMPORT_FAULT`` holds one point name (or several, comma-separated);
``AIMPORT_FAULT_AFTER=N`` lets N passes through a point happen first.
Inside an import worker process the parent service is killed too, exactly
like a ``kill -9`` of the whole container.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "after_detect", "after_claim", "mid_parse", "mid_transaction", "after_commit",
    "mid_history_move", "mid_side_file", "after_archive", "mid_export", "after_export_rename",
)
_passes: dict[str, int] = {}


def point(name: str) -> None:
    wanted = os.environ.get("AIMPORT_FAULT", "")
    if not wanted or name not in wanted.split(","):
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] <= int(os.environ.get("AIMPORT_FAULT_AFTER", "0")):
        return
    service = os.environ.get("AIMPORT_SERVICE_PID")
    if service and int(service) != os.getpid():
        os.kill(int(service), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def delay(name: str) -> float:
    """Seconds to pause at ``name`` (``AIMPORT_PAUSE=name:ms``), for race tests; 0 normally."""
    for item in os.environ.get("AIMPORT_PAUSE", "").split(","):
        point_name, _, ms = item.partition(":")
        if point_name == name and ms:
            return int(ms) / 1000
    return 0.0


def oserror(name: str) -> None:
    """Raise an injected OSError at ``name`` (``AIMPORT_FAULT_OSERROR=name:N``) for the first N passes."""
    if _injected(name):
        raise OSError(28, f"No space left on device (injected at {name})")


def store_error(name: str) -> None:
    """Raise an injected SQLite "disk full" at ``name`` (``AIMPORT_FAULT_OSERROR=name:N``) for the first N passes."""
    if _injected(name):
        import sqlite3

        raise sqlite3.OperationalError(f"database or disk is full (injected at {name})")


def _injected(name: str) -> bool:
    for item in os.environ.get("AIMPORT_FAULT_OSERROR", "").split(","):
        point_name, _, count = item.partition(":")
        if point_name == name:
            key = "oserror:" + name
            _passes[key] = _passes.get(key, 0) + 1
            return _passes[key] <= int(count or "1")
    return False
