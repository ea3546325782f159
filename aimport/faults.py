"""Fault injection for the crash tests: ``AIMPORT_FAULT=point`` kills the service there.

``AIMPORT_FAULT`` holds one point name (or several, comma-separated);
``AIMPORT_FAULT_AFTER=N`` lets N passes through a point happen first.
Inside an import worker process the parent service is killed too, exactly
like a ``kill -9`` of the whole container.

Every name the code passes and every name a setting holds is declared below (one tuple per
kind); an undeclared name fails an assertion at the call, and ``tests/test_faults.py`` checks
the names in the code and in the tests' settings, so a misspelt point cannot silently never fire.
"""

from __future__ import annotations

import os
import signal

POINTS = (  # AIMPORT_FAULT=name: the process is killed there (:func:`point`)
    "after_detect", "after_claim", "mid_parse", "mid_transaction", "after_commit",
    "mid_history_move", "mid_side_file", "after_archive", "mid_export", "after_export_rename",
    "rejected_written", "mid_rejected_file",  # a partial import's rejected rows: in the work dir; in History/
)
PAUSES = ("before_claim", "before_commit")  # AIMPORT_PAUSE=name:ms (:func:`delay`)
OS_ERRORS = ("archive", "side_files", "work_dir")  # AIMPORT_FAULT_OSERROR=name:N (:func:`oserror`)
STORE_ERRORS = ("store",)  # AIMPORT_FAULT_OSERROR=name:N (:func:`store_error`)
SETTINGS = {"AIMPORT_FAULT": POINTS, "AIMPORT_PAUSE": PAUSES, "AIMPORT_FAULT_OSERROR": OS_ERRORS + STORE_ERRORS}
_POINTS, _PAUSES, _OS_ERRORS, _STORE_ERRORS = map(frozenset, (POINTS, PAUSES, OS_ERRORS, STORE_ERRORS))
_passes: dict[str, int] = {}


def undeclared(variable: str, value: str) -> list[str]:
    """The names in the setting ``variable`` (e.g. ``AIMPORT_PAUSE``) = ``value`` that are not declared for it."""
    names = (item.partition(":")[0].strip() for item in value.split(","))
    return [n for n in names if n and n not in SETTINGS[variable]]


def point(name: str) -> None:
    assert name in _POINTS, f"undeclared fault point {name!r} (aimport.faults.POINTS)"
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
    assert name in _PAUSES, f"undeclared pause point {name!r} (aimport.faults.PAUSES)"
    for item in os.environ.get("AIMPORT_PAUSE", "").split(","):
        point_name, _, ms = item.partition(":")
        if point_name == name and ms:
            return int(ms) / 1000
    return 0.0


def oserror(name: str) -> None:
    """Raise an injected OSError at ``name`` (``AIMPORT_FAULT_OSERROR=name:N``) for the first N passes."""
    assert name in _OS_ERRORS, f"undeclared error point {name!r} (aimport.faults.OS_ERRORS)"
    if _injected(name):
        raise OSError(28, f"No space left on device (injected at {name})")


def store_error(name: str) -> None:
    """Raise an injected SQLite "disk full" at ``name`` (``AIMPORT_FAULT_OSERROR=name:N``) for the first N passes."""
    assert name in _STORE_ERRORS, f"undeclared error point {name!r} (aimport.faults.STORE_ERRORS)"
    if _injected(name):
        import sqlite3

        exc = sqlite3.OperationalError(f"database or disk is full (injected at {name})")
        exc.sqlite_errorcode = sqlite3.SQLITE_FULL  # as the driver sets it (aimport.errors.store_trouble reads it)
        raise exc


def _injected(name: str) -> bool:
    for item in os.environ.get("AIMPORT_FAULT_OSERROR", "").split(","):
        point_name, _, count = item.partition(":")
        if point_name == name:
            key = "oserror:" + name
            _passes[key] = _passes.get(key, 0) + 1
            return _passes[key] <= int(count or "1")
    return False
