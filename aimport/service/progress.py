"""How far a running import has got (rows read or stored so far), read from its progress file.

The worker process writes the file (:class:`aimport.importing.worker.ProgressFile`); the jobs view
reads it here. :func:`read` ignores a file it cannot parse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aimport.importing.worker import path_for

__all__ = ["ImportProgress", "read"]


@dataclass(frozen=True)
class ImportProgress:
    phase: str  # e.g. "reading Skills", "storing Skills"
    rows: int  # rows of that phase so far
    at: float  # Unix time of the report


def read(work_dir: Path, import_id: int) -> ImportProgress | None:
    """The last progress reported by import ``import_id`` (None: none yet, or none readable)."""
    try:
        data = json.loads(path_for(work_dir, import_id).read_bytes()[:4096])
        return ImportProgress(str(data["phase"]), int(data["rows"]), float(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
