"""Raw baselines measured in the same run: what the hardware and libraries do without aimport."""

from __future__ import annotations

import csv
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["DIR_COLUMNS", "calamine_executemany", "calamine_store_ceiling", "csv_executemany", "csv_store_ceiling",
           "openpyxl_executemany", "xlsxwriter_rows"]

# the store's Directory table, in the order of inputs.DIR_HEADER
DIR_COLUMNS = ["external_id", "first_name", "last_name", "company", "phone", "mobile", "email", "department",
               "directory_group"]

def _insert(db: Path, width: int, rows: Iterable[list[Any]]) -> None:
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(width))})")
    sql = f"INSERT INTO t VALUES ({', '.join('?' * width)})"
    batch: list[list[Any]] = []
    conn.execute("BEGIN")
    for r in rows:
        batch.append(r)
        if len(batch) >= 5000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.commit()
    conn.close()


def calamine_executemany(path: Path, db: Path) -> float:
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    it = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
    head = next(it)
    _insert(db, len(head), it)
    return time.perf_counter() - t


def openpyxl_executemany(path: Path, db: Path) -> float:
    import openpyxl

    t = time.perf_counter()
    wb = openpyxl.load_workbook(path, read_only=True)
    it = wb.worksheets[0].iter_rows(values_only=True)
    head = next(it)
    _insert(db, len(head), (list(r) for r in it))
    wb.close()
    return time.perf_counter() - t


def csv_executemany(path: Path, db: Path) -> float:
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        it = csv.reader(fh, delimiter="\t")
        head = next(it)
        _insert(db, len(head), it)
    return time.perf_counter() - t


def xlsxwriter_rows(rows: list[list[Any]], header: list[str], out: Path) -> float:
    import xlsxwriter

    t = time.perf_counter()
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, header)
    for i, r in enumerate(rows, start=1):
        ws.write_row(i, 0, r)
    wb.close()
    return time.perf_counter() - t


def _store_insert(db: Path, rows: Iterable[list[Any]], fresh: bool) -> None:
    """The same rows, unchecked, into the system store's real Directory table (its index, WAL, one transaction).

    ``fresh``: into a new store; else into ``db`` as the earlier runs left it, so that the table holds as many
    rows as the service's store does when it imports the same file (inserts into a larger index cost more).
    """
    from aimport.store.schema import open_store

    if fresh:
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
    store = open_store(db)
    store.begin_write()
    store.executemany(f"INSERT INTO directory_entries ({', '.join(DIR_COLUMNS)}) VALUES ({', '.join('?' * 9)})", rows)
    store.commit()
    store.close()


def calamine_store_ceiling(path: Path, db: Path, fresh: bool = True) -> float:
    """What any importer into this store pays at least: read with calamine, one unchecked pass into the real table."""
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    it = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
    next(it)
    _store_insert(db, it, fresh)
    return time.perf_counter() - t


def csv_store_ceiling(path: Path, db: Path, fresh: bool = True) -> float:
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        it = csv.reader(fh, delimiter="\t")
        next(it)
        _store_insert(db, it, fresh)
    return time.perf_counter() - t
