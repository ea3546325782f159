"""How far a running import has got (rows read or stored so far), as a small file the jobs view reads.

The import runs in a worker process: it reports progress through the ``Progress`` callback of
:func:`aimport.importing.run.run_import` (``aimport import`` draws its progress bar from the same
callback). In the service that callback is a :class:`ProgressFile`: it writes
``<work dir>/progress-<import id>.json`` at most twice a second (and at every change of phase), by
atomic rename, best effort (a full state disk only loses the progress, never the import). The worker
removes the file when the import ends (:func:`run_reporting`), the job again if the worker died;
:func:`read` ignores a file it cannot parse.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from aimport.atomicfile import temp_path, write_atomic
from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import

__all__ = ["ImportProgress", "ProgressFile", "path_for", "read", "run_reporting"]

INTERVAL_S = 0.5


def path_for(work_dir: Path, import_id: int) -> Path:
    return work_dir / f"progress-{int(import_id)}.json"


@dataclass
class ProgressFile:
    """The progress callback handed to the worker process (picklable: a path and two numbers)."""

    path: Path
    _phase: str = field(default="", init=False)
    _written: float = field(default=0.0, init=False)

    def __call__(self, phase: str, rows: int) -> None:
        now = time.monotonic()
        if phase == self._phase and now - self._written < INTERVAL_S:
            return
        self._phase, self._written = phase, now
        try:  # read by the service as it goes: atomic, but not worth a sync (gone when the import ends)
            write_atomic(self.path, json.dumps({"phase": phase, "rows": int(rows), "at": time.time()}), durable=False)
        except OSError:
            pass

    def remove(self) -> None:
        for p in (self.path, temp_path(self.path)):
            try:
                p.unlink()
            except OSError:
                pass


def run_reporting(req: ImportRequest, reporter: ProgressFile) -> ImportOutcome:
    """Run in the worker process: the import, reporting to ``reporter``, whose file is removed at the end
    (there, so that the service's event loop does not wait for the file system)."""
    try:
        return run_import(req, reporter)
    finally:
        reporter.remove()


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
