"""Issue 29: the cost of before-images, measured in one run: the same apply with them and without them.

Two applies of a Directory file of N rows into a fresh SQLite store each time (in-process ``run_import``, the
worker's entry point; the apply phase is timed, COMMIT included): creating N entries (before-images cost nothing
there: a created item is known by its ``created_by``) and then updating one column (Email) of all N. Best of
``repeat``, alternating with and without. Then the size of the before-images of that update against the size of
the column's old values.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchlib import inputs
from benchlib.report import Report

__all__ = ["undo_case"]

TARGET_SLOWER = 1.15  # at most 15 % slower with before-images
TARGET_SIZE = 2.0  # before-images of a one-column update at most 2x that column's data


def _rows(n: int, mail: str) -> Iterator[list[str]]:
    for r in inputs.directory_rows(n, "U"):
        r[6] = f"p{r[0][1:]}@{mail}"
        yield r


def _settle(store: Path) -> None:
    """Wait until the previous import's WAL checkpoint (a thread of this process) is done and the WAL is empty:
    it is not part of the next apply, in either mode."""
    if store.exists():
        with sqlite3.connect(store, timeout=120) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    time.sleep(0.2)


def _apply_s(work: Path, name: str, src: Path, store: Path) -> float:
    from aimport.importing.outcome import ImportRequest
    from aimport.importing.run import run_import

    _settle(store)

    out = run_import(ImportRequest(path=src, import_type="Directory", import_key=name, store_address=store,
                                   work_dir=work / "undo-w", actor="bench", log_path=None))
    assert out.status == "succeeded" and out.phases is not None, (out.status, out.error_code, out.log_text[-500:])
    return out.phases.apply_ms / 1000


class _Timed:
    """Time spent inside the before-image capture (its own share of the apply, robust to a busy machine)."""

    def __init__(self) -> None:
        from aimport.undo import capture

        self.spent = 0.0
        self._saved = {name: getattr(capture.BeforeImages, name) for name in ("updated", "deleted", "flush")}
        for name, orig in self._saved.items():
            setattr(capture.BeforeImages, name, self._wrap(orig))

    def _wrap(self, orig: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - t
        return timed

    def restore(self) -> None:
        from aimport.undo import capture

        for name, orig in self._saved.items():
            setattr(capture.BeforeImages, name, orig)


def undo_case(rep: Report, work: Path, n: int, repeat: int) -> None:
    from aimport.undo.capture import set_enabled

    (work / "undo-w").mkdir(parents=True, exist_ok=True)
    create = inputs.text(work / "undo-create.txt", inputs.DIR_HEADER, _rows(n, "example.com"))
    update = inputs.text(work / "undo-update.txt", inputs.DIR_HEADER, _rows(n, "example.org"))
    times: dict[tuple[str, bool], list[float]] = {}
    store = work / "undo.sqlite"
    try:
        for i in range(repeat):
            for on in (True, False) if i % 2 == 0 else (False, True):
                set_enabled(on)
                _settle(store)
                for p in work.glob("undo.sqlite*"):
                    p.unlink()
                times.setdefault(("create", on), []).append(_apply_s(work, f"c{i}{on}", create, store))
                times.setdefault(("update", on), []).append(_apply_s(work, f"u{i}{on}", update, store))
                if on:
                    with sqlite3.connect(store) as db:
                        kept = db.execute("SELECT SUM(LENGTH(CAST(data AS BLOB)) + LENGTH(fields) + LENGTH(import_key) "
                                          "+ LENGTH(item_type) + LENGTH(action) + 8 + LENGTH(at)) FROM import_changes "
                                          "WHERE import_key = ?", (f"u{i}{on}",)).fetchone()[0] or 0
                        entries = db.execute("SELECT COUNT(*) FROM import_changes").fetchone()[0]
        set_enabled(True)  # once more, timing the capture itself (its calls; the wrapper's own cost included)
        _settle(store)
        for p in work.glob("undo.sqlite*"):
            p.unlink()
        _apply_s(work, "cT", create, store)
        timer = _Timed()
        try:
            timed_apply = _apply_s(work, "uT", update, store)
        finally:
            timer.restore()
    finally:
        set_enabled(True)
    column = sum(len(f"p{i}@example.com".encode()) for i in range(n))  # the old values of the updated column
    for what in ("create", "update"):
        with_bi, without = min(times[(what, True)]), min(times[(what, False)])
        rep.limit(f"apply with before-images / without, {what} {n:,} Directory rows"
                  + (" x 1 column (Email)" if what == "update" else ""), with_bi / without, TARGET_SLOWER, "x", strict=True)
        rep.info(f"apply {what} {n:,} rows, best of {repeat}: with / without before-images",
                 f"{with_bi:.2f} s / {without:.2f} s")
    rep.info(f"time inside the before-image capture, update {n:,} rows x 1 column",
             f"{timer.spent:.2f} s of a {timed_apply:.2f} s apply ({100 * timer.spent / timed_apply:.1f} %)")
    rep.limit(f"before-images of the update of {n:,} rows x 1 column / that column's data", kept / column,
              TARGET_SIZE, "x", strict=True)
    rep.info("before-images of that update", f"{kept / 1e6:.1f} MB in {entries} batch rows; the column's old "
             f"values: {column / 1e6:.1f} MB")
