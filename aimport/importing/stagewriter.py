"""The staging writer: parsed blocks into the scratch table, in this process or in a helper process.

A large sheet uses both cores: once ``HELPER_AFTER`` rows are staged here, the rest of the sheet's
blocks go through a pipe to a helper process that runs the ``executemany`` (and the duplicate
bookkeeping of :class:`~aimport.importing.stagetable.Writer`) while this process reads and checks the
next blocks. Small files never start one. The helper is a plain child process of the worker that ends
when its pipe closes, so a killed or cancelled worker takes it along; its errors come back and are
raised here as the same exception (a full scratch disk stays a full disk).

Run as ``python -m aimport.importing.stagewriter`` it *is* the helper.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from aimport.importing.stagetable import Writer

__all__ = ["HELPER_AFTER", "StageHelper", "StageWriter"]

HELPER_AFTER = 10_000  # rows staged in this process before the rest of a sheet goes to the helper
_PIPE_BYTES = 1 << 20  # so that the reader runs a few blocks ahead of the helper
_PKG_ROOT = str(Path(__file__).resolve().parent.parent.parent)


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
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "aimport.importing.stagewriter", str(self.path)],
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

    def _raise_ended(self) -> None:
        code = self._proc.wait() if self._proc else None
        self._proc = None
        raise RuntimeError(f"the staging helper process ended unexpectedly (exit code {code})")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class StageWriter:
    """Stages one sheet's batches: the first ``local_rows`` with ``conn``, the rest through ``helper``.

    The caller has begun a transaction on ``conn``; :meth:`finish` commits it (and waits for the
    helper's commit), after which :attr:`duplicates` holds every row the UNIQUE key left out.
    """

    def __init__(self, conn: sqlite3.Connection, table: str, sql: str, key: list[int] | None,
                 helper: StageHelper | None, local_rows: int | None = None) -> None:
        self._local = Writer(conn, table, sql, key)
        self._conn = conn
        self._args = (table, sql, key)
        self._helper = helper
        self._room = HELPER_AFTER if local_rows is None else local_rows
        self._remote = False
        self.duplicates: list[tuple[int, tuple[Any, ...]]] = []

    def put(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        if self._remote:
            assert self._helper is not None
            self._helper.send_rows(batch)
            return
        self._local.put(batch)
        self._room -= len(batch)
        if self._room <= 0 and self._helper is not None:
            self._conn.execute("COMMIT")  # the helper writes the same file from here on
            self._helper.send(("begin", *self._args))
            self._remote = True

    def finish(self) -> None:
        self.duplicates = list(self._local.duplicates)
        if self._remote:
            assert self._helper is not None
            self._helper.send(("end",))
            self.duplicates += self._helper.reply()
        else:
            self._conn.execute("COMMIT")


def _grow_pipe(pipe: IO[bytes]) -> None:
    try:
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except OSError:
        pass  # the system's limit for pipe sizes is lower: the default size only makes the reader wait more


def _serve(path: str) -> None:
    """The helper's loop: ``begin`` / ``put`` / ``end`` messages from stdin, one reply per ``end``."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    writer: Writer | None = None
    failure: BaseException | None = None
    while True:
        try:
            message = pickle.load(inp)
        except EOFError:
            return
        kind = message[0]
        try:
            if failure is not None:
                pass  # the rest of the sheet is skipped; the failure is the reply to "end"
            elif kind == "begin":
                conn.execute("BEGIN")
                writer = Writer(conn, *message[1:])
            elif kind == "put" and writer is not None:
                writer.put(message[1])
            elif kind == "rows" and writer is not None:
                writer.put(marshal.loads(message[1]))
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the worker
            failure = exc
        if kind == "end":
            if failure is None and writer is not None:
                try:
                    conn.execute("COMMIT")
                except Exception as exc:  # noqa: BLE001
                    failure = exc
            if failure is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            reply = ("error", failure) if failure is not None else ("ok", writer.duplicates if writer else [])
            try:
                data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an error that cannot cross the pipe goes as its text
                data = pickle.dumps(("error", RuntimeError(f"staging failed: {failure!r}")))
            out.write(data)
            out.flush()
            writer, failure = None, None


if __name__ == "__main__":
    _serve(sys.argv[1])
