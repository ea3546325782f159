"""The PostgreSQL cases: the 200k-row Directory file into a PostgreSQL store, against raw ``COPY`` in the same run.

The bench starts its own throwaway server (``tests/pgserver.py``: initdb in a temporary directory,
fsync off) and stops it at the end. The raw baseline is the PostgreSQL twin of the SQLite store
ceiling: the same rows, read with calamine / the csv module, ``COPY``ed unchecked in one transaction
into the ``directory_entries`` table of a fresh database with the aimport schema (its indexes
included). aimport's side is the real service with ``--store postgresql://...``, drop to ``.result``,
into a store that keeps the earlier runs' rows (as the SQLite case does).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchlib import inputs
from benchlib.baselines import DIR_COLUMNS
from benchlib.report import Report
from benchlib.service import aged, e2e, start_service, status_of
from tests.helpers import query, wait_for
from tests.pgserver import PgServer, find_bindir, start_server
from tests.serviceprocess import ServiceProcess

__all__ = ["CASES", "calamine_copy", "copy_rows", "csv_copy", "fresh_store", "pg_cases"]

CASES = {"xlsx": "PostgreSQL xlsx import e2e", "text": "PostgreSQL tab-delimited import e2e",
         "copy": "PostgreSQL raw COPY alone"}
TARGET = 0.5
APPLY_TARGET = 0.6  # the store's part of an import against a raw COPY of the same rows


def fresh_store(server: PgServer) -> str:
    """A new database on ``server`` with the aimport schema and nothing in it: its URL."""
    from aimport.store.schema import open_store

    url = server.url(server.create_database(prefix="bench"))
    open_store(url).close()
    return url


def copy_rows(url: str, rows: Iterable[Sequence[Any]]) -> None:
    """The rows, unchecked, into the store's Directory table: one connection, one ``COPY``, one commit."""
    import psycopg

    sql = f"COPY directory_entries ({', '.join(DIR_COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as conn, conn.cursor().copy(sql) as copy:  # leaving the block commits
        for r in rows:
            copy.write_row(r)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from python_calamine import CalamineWorkbook

    it = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
    next(it)
    return it


def _text_rows(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        it = csv.reader(fh, delimiter="\t")
        next(it)
        yield from it


def calamine_copy(path: Path, url: str) -> float:
    """Seconds to read ``path`` with calamine and ``COPY`` its rows into the store at ``url``."""
    t = time.perf_counter()
    copy_rows(url, _xlsx_rows(path))
    return time.perf_counter() - t


def csv_copy(path: Path, url: str) -> float:
    """Seconds to read ``path`` with the csv module and ``COPY`` its rows into the store at ``url``."""
    t = time.perf_counter()
    copy_rows(url, _text_rows(path))
    return time.perf_counter() - t


def _copy_only(url: str, rows: list[list[Any]]) -> float:
    t = time.perf_counter()
    copy_rows(url, rows)
    return time.perf_counter() - t


def pg_cases(rep: Report, work: Path, z: dict[str, Any], repeat: int) -> None:
    """xlsx and text Directory files end to end into PostgreSQL vs read + raw ``COPY``; best of ``repeat``."""
    bindir = find_bindir()
    if bindir is None:
        for case in CASES.values():
            rep.info(case, "n/a (no PostgreSQL server binaries: install Debian's postgresql package)")
        return
    server = start_server(bindir)
    svc = None
    try:
        svc = start_service(work, "pg", store=server.url(server.create_database(prefix="bench")))
        # the raw COPY for the apply ratio goes into a store of its own that gets the same rows as the
        # service's store, run by run: both insert into a table (and its indexes) of the same size
        copy_url = fresh_store(server)
        copy_alone: dict[str, list[float]] = {"xlsx": [], "text": []}
        applies: dict[str, list[float]] = {"xlsx": [], "text": []}
        for kind, baseline in (("xlsx", calamine_copy), ("text", csv_copy)):
            n = z[f"pg_{kind}"]
            ours, raws = [], []
            for i in range(repeat):  # alternating, each import with new rows (as the SQLite cases)
                prefix = f"P{kind[0].upper()}{i}-"
                if kind == "xlsx":
                    src = inputs.xlsx(work / f"pg{i}.xlsx", inputs.DIR_HEADER, inputs.directory_rows(n, prefix), "Directory")
                else:
                    src = inputs.text(work / f"pg{i}.txt", inputs.DIR_HEADER, inputs.directory_rows(n, prefix))
                url = fresh_store(server)
                raws.append(baseline(aged(src), url))
                server.drop_database(url.rsplit("/", 1)[1])
                ours.append(e2e(svc, src, "Directory"))
                assert status_of(svc, "Directory", src.name) == "succeeded", src.name
                applies[kind].append(_apply_s(svc, src.name))
                copy_alone[kind].append(_copy_only(copy_url, list(inputs.directory_rows(n, prefix))))
            rep.ratio(f"{CASES[kind]}, {n:,} rows", n / min(ours), n / min(raws), TARGET,
                      f"raw: {'calamine' if kind == 'xlsx' else 'csv module'} read + one COPY into the store's "
                      f"Directory table (fresh database, aimport schema); best of {repeat}")
            rep.info(f"PostgreSQL {kind} {n:,} rows: seconds, aimport e2e vs raw read + COPY",
                     f"{min(ours):.2f} s vs {min(raws):.2f} s (runs: {_runs(ours)} vs {_runs(raws)})")
        for kind in ("xlsx", "text"):  # the store's part of the import (the finished event's apply_ms)
            n = z[f"pg_{kind}"]
            raw_copy = min(copy_alone[kind])
            rep.info(f"{CASES['copy']}, {n:,} rows already in memory (no reading), as the {kind} imports",
                     f"{raw_copy:.2f} s ({n / raw_copy:,.0f} rows/s; runs: {_runs(copy_alone[kind])}); best of {repeat}")
            took = [a for a in applies[kind] if a]
            if not took:
                rep.info(f"PostgreSQL {kind} apply vs raw COPY, {n:,} rows", "n/a (no apply_ms in the finished events)")
                continue
            rep.ratio(f"PostgreSQL {kind} apply vs raw COPY, {n:,} rows", n / min(took), n / raw_copy, APPLY_TARGET,
                      f"apply: matching, creating and COMMIT in the worker (apply_ms of the finished event; runs "
                      f"{_runs(applies[kind])} s); raw: COPY of the same rows already in memory into a store holding "
                      "as many rows")
    finally:
        if svc is not None:
            svc.stop()
        server.stop()


def _apply_s(svc: ServiceProcess, name: str) -> float:
    """Seconds the worker spent applying and committing the import of ``name``: its ``finished`` event's
    ``apply_ms`` (the event follows the ``.result`` by a moment; 0.0 if it never has the field)."""
    sql = ("SELECT json_extract(detail, '$.apply_ms') FROM events WHERE kind = 'finished' "
           "AND json_extract(detail, '$.file') = ? ORDER BY id DESC LIMIT 1")
    wait_for(lambda: query(svc.audit_db, sql, (name,)), 30, interval=0.02, what=f"the finished event of {name}")
    rows = query(svc.audit_db, sql, (name,))
    return float(rows[0][0]) / 1000 if rows[0][0] is not None else 0.0


def _runs(times: list[float]) -> str:
    return "/".join(f"{t:.2f}" for t in times)
