"""The staging helper: a second process that writes a large sheet's scratch table for the worker.

The worker sends the rest of a sheet's blocks through a pipe (:class:`StageHelper`); the helper process
(:mod:`aimport.importing.stageserver`) is a plain child process of the worker that ends when its pipe
closes, so a killed or cancelled worker takes it along; its errors come back and are raised here as the
same exception (a full scratch disk stays a full disk). A helper that dies (the out-of-memory killer,
kill -9) raises :class:`HelperDied`: the import ends as a crashed worker would (``WORKER_CRASHED``),
never as a bug.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any, NoReturn

__all__ = ["HelperDied", "StageHelper"]

_PIPE_BYTES = 1 << 20  # so that the reader runs a few blocks ahead of the helper
_PKG_ROOT = str(Path(__file__).resolve().parent.parent.parent)


class HelperDied(Exception):
    """The staging helper process ended without answering (killed, out of memory): a process of the import died."""

    def __init__(self, exit_code: int | None) -> None:
        self.exit_code = exit_code
        if exit_code is not None and exit_code < 0:
            try:
                name = signal.Signals(-exit_code).name
            except ValueError:
                name = str(-exit_code)
            why = f"was killed (signal {name}{'; the out-of-memory killer sends it' if name == 'SIGKILL' else ''})"
        else:
            why = f"ended unexpectedly (exit code {exit_code})"
        super().__init__(f"the staging helper process {why}")


class StageHelper:
    """One helper process for one scratch database (started on first use, ended by :meth:`close`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._proc: subprocess.Popen[bytes] | None = None
        self.started = False  # whether a helper process was ever started (tests, and the work log)

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self.started = True
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PKG_ROOT, os.environ.get("PYTHONPATH")]))}
            # -S: no site module (.pth files, editable-install finders): it needs only the standard library and
            # aimport, found through PYTHONPATH; 0.9 MB less resident
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-m", "aimport.importing.stageserver", str(self.path)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
            assert self._proc.stdin is not None
            _grow_pipe(self._proc.stdin)
        return self._proc

    def send(self, message: tuple[Any, ...]) -> None:
        proc = self._started()
        assert proc.stdin is not None
        try:
            pickle.dump(message, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:
            self._raise_ended()

    def send_rows(self, batch: list[tuple[Any, ...]]) -> None:
        """One batch of staged rows: marshal (twice as fast as pickle both ways) unless a value needs pickle."""
        try:
            data = marshal.dumps(batch, 4)
        except ValueError:  # a value marshal does not know (a date, a CellError ...)
            self.send(("put", batch))
            return
        self.send(("rows", data))

    def reply(self) -> Any:
        proc = self._started()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.flush()
            kind, value = pickle.load(proc.stdout)
        except (BrokenPipeError, EOFError, pickle.UnpicklingError):
            self._raise_ended()
        if kind == "error":
            raise value
        return value

    def _raise_ended(self) -> NoReturn:
        proc, self._proc = self._proc, None
        raise HelperDied(_ended(proc) if proc is not None else None)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _ended(proc)


def _ended(proc: subprocess.Popen[bytes]) -> int:
    """Close the helper's pipes (it ends at the end of its input) and wait for it; its exit code."""
    for pipe in (proc.stdin, proc.stdout):
        try:
            if pipe:
                pipe.close()
        except OSError:
            pass
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _grow_pipe(pipe: IO[bytes]) -> None:
    try:
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except OSError:
        pass  # the system's limit for pipe sizes is lower: the default size only makes the reader wait more
