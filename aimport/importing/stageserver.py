"""The staging helper's server process: runs a sheet's scratch-table writes for the worker that started it.

``python -m aimport.importing.stageserver <scratch file>``, started by
:class:`~aimport.importing.stagehelper.StageHelper`, reads ``begin`` / ``rows`` / ``put`` / ``end``
messages from its stdin and answers each ``end`` with the duplicates or the error. It imports only
what it runs (it is one more process in the import's memory): the standard library's ``sqlite3``,
``marshal`` and ``pickle``, and the scratch writer.
"""

from __future__ import annotations

import marshal
import pickle
import sqlite3
import sys

from aimport.importing.stagetable import StageTable

__all__ = ["serve"]


def serve(path: str) -> None:
    """The helper's loop: ``begin`` / ``put`` / ``end`` messages from stdin, one reply per ``end``."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size = -512")  # 512 KB: measured as fast as 2 MB, and the helper counts in memory
    writer: StageTable | None = None
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
                writer = StageTable(conn, *message[1:])
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
    serve(sys.argv[1])
