"""The worker process's entry point: one import, its progress reported to a small file the jobs view reads.

The import runs in a worker process: it reports progress through the ``Progress`` callback of
:func:`aimport.importing.run.run_import` (``aimport import`` draws its progress bar from the same
callback). In the service that callback is a :class:`ProgressFile`: it writes
``<work dir>/progress-<import id>.json`` at most twice a second (and at every change of phase), by
atomic rename, best effort (a full state disk only loses the progress, never the import). The worker
removes the file when the import ends (:func:`run_reporting`), the service again if the worker died;
the service reads it with :func:`aimport.service.progress.read`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from aimport.atomicfile import temp_path, write_atomic
from aimport.importing.outcome import ImportOutcome, ImportRequest
from aimport.importing.run import run_import

__all__ = ["INTERVAL_S", "ProgressFile", "path_for", "run_reporting"]

INTERVAL_S = 0.5


def path_for(work_dir: Path, import_id: int) -> Path:
    """The progress file of import ``import_id``."""
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
