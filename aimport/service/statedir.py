"""The service's own part of its state directory: the lock that makes it the one service there, its record
(``service.json``) kept in place while it runs, and what imports whose process died left in ``work/``.

- ``STATE/service.lock``: an exclusive ``flock`` held for the service's whole run, with its pid in it
  (:func:`lock`, through :func:`aimport.filelock.own`). A second service on the same state directory
  refuses to start and names that pid; the kernel lets go when the service ends, kill -9 included.
  ``aimport release`` asks :func:`running_service` whether a service will read its request now.
- ``STATE/service.json`` (:mod:`aimport.staterecord`): written at start and again, within
  :data:`RECORD_CHECK_S`, whenever it is deleted, replaced or edited (:class:`RecordKeeper`).
- ``STATE/work``: the scratch databases (:mod:`aimport.importing.scratch`) and progress files of
  imports that were running when their process died; removed at start (:func:`remove_left_over`),
  except a scratch file a live process still has open (a foreground ``aimport import`` or ``check``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import anyio

from aimport import filelock, staterecord
from aimport.importing import filestate, scratch

logger = logging.getLogger(__name__)

__all__ = ["LOCK_FILE", "RECORD_CHECK_S", "RecordKeeper", "StateDirInUse", "lock", "remove_left_over",
           "running_service"]

LOCK_FILE = "service.lock"
RECORD_CHECK_S = 10.0  # service.json is checked this often (a stat) and written again when it is not ours


class StateDirInUse(Exception):
    """Another live service holds the state directory; the message names its pid and what to do."""


def lock(state_dir: Path) -> int | None:
    """Make this process the one service on ``state_dir`` until it ends; the descriptor that holds the lock
    (None when the file system has no locks: a warning says so). Raises :class:`StateDirInUse`."""
    try:
        return filelock.own(state_dir / LOCK_FILE)
    except filelock.Owned as exc:
        who = f"pid {exc.pid}" if exc.pid else "its pid was not recorded"
        raise StateDirInUse(f"the state directory {state_dir} is in use by another aimport service ({who}); stop "
                            "that one first, or give this one its own --state-dir (AIMPORT_STATE_DIR)") from None
    except OSError as exc:
        logger.warning(f"cannot lock the state directory {state_dir} ({exc.strerror or exc}): make sure "
                                 "no other aimport service uses it")
        return None


def running_service(state_dir: Path) -> int | None:
    """The pid of the service running on ``state_dir`` (0: one runs, pid unknown); None when none does."""
    return filelock.owner(state_dir / LOCK_FILE)


def remove_left_over(work_dir: Path) -> int:
    """Remove the scratch and progress files of imports whose process died, unless a live process still has one
    open for writing (where the platform cannot tell, it is removed: only a service start calls this, with its
    state directory locked); how many were removed (logged)."""
    try:
        progress = sorted(work_dir.glob("progress-*.json*"))
    except OSError:
        progress = []
    stale = [p for p in scratch.left_over(work_dir) + progress if not filestate.open_for_writing(p)]
    removed = scratch.remove(stale)
    if removed:
        logger.info(f"removed {removed} scratch file(s) of interrupted imports from {work_dir}")
    return removed


class RecordKeeper:
    """Writes ``service.json`` and writes it again when it is not the file this service wrote."""

    def __init__(self, state_dir: Path, record: staterecord.ServiceRecord) -> None:
        self.state_dir, self.record = state_dir, record
        self.path = state_dir / staterecord.FILE_NAME
        self._written: filestate.FileIdentity | None = None
        self._problem = ""  # why the last write failed (logged once)

    def write(self, again: str = "") -> None:
        """Write the record (``again``: why it is written again, for the log); a failure is logged once."""
        try:
            staterecord.write(self.state_dir, self.record)
        except OSError as exc:
            problem = str(exc.strerror or exc)
            if problem != self._problem:
                logger.warning(f"cannot record root, server and unit in {self.path}: {problem}")
            self._problem = problem
            return
        self._problem = ""
        self._written = filestate.identity(self.path)
        if again:
            logger.warning(f"{self.path} {again}: written again")

    async def keep(self, every_s: float = RECORD_CHECK_S) -> None:
        """Until cancelled: every ``every_s``, write the record again if it was deleted, replaced or edited."""
        while True:
            await anyio.sleep(every_s)
            now = await anyio.to_thread.run_sync(filestate.identity, self.path)
            if now != self._written:
                await anyio.to_thread.run_sync(self.write, "was deleted" if now is None else "was changed")
