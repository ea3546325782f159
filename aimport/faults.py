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
    "mid_side_file", "after_archive", "mid_export", "after_export_rename",
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
