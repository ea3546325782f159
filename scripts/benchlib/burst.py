"""A burst of small files into the real service: files/s, every one archived, the limit never exceeded."""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchlib.report import Report
from benchlib.service import aged, start_service
from tests.helpers import query
from tests.test_burst import KINDS, one_row_files
from tests.test_concurrency import _ts, max_overlap

__all__ = ["burst_case"]

LIMIT = 2


def _files(staging: Path, n: int, r: int) -> list[tuple[str, Path]]:
    """``n`` one-row files over the eight types of tests/test_burst.py, finished before the drop (aged)."""
    return [(t, aged(p)) for t, p in one_row_files(staging, n, str(r))]


def one_burst(work: Path, n: int, r: int) -> tuple[float, str]:
    """Seconds from the first drop to the last finished import, and what is wrong with the run ('' if nothing)."""
    s = start_service(work, f"burst{r}", "--max-concurrent", str(LIMIT), "--max-pending", "200")
    staging = work / f"burst{r}-staging"
    staging.mkdir()
    made = _files(staging, n, r)
    pattern = f"b{r}-%"
    done_sql = f"SELECT COUNT(*) FROM imports WHERE file_name LIKE '{pattern}' AND status NOT IN ('queued','in_process')"
    t0 = time.perf_counter()
    for t, p in made:
        os.replace(p, s.layout.type_dir(t) / p.name)
    while query(s.audit_db, done_sql)[0][0] < n:
        time.sleep(0.05)
        if time.perf_counter() - t0 > 3600:
            break
    elapsed = time.perf_counter() - t0
    rows = query(s.audit_db, f"SELECT status, started_at, finished_at FROM imports WHERE file_name LIKE '{pattern}'")
    s.stop()
    problems = []
    if len(rows) != n or {row[0] for row in rows} != {"succeeded"}:
        problems.append(f"{sum(row[0] == 'succeeded' for row in rows)} of {n} succeeded")
    archived = sum(1 for t, _ in KINDS for _p in s.layout.history_dir(t).glob(f"*_b{r}-*.txt.result"))
    if archived != n:
        problems.append(f"{archived} of {n} archived with a .result")
    overlap = max_overlap([(_ts(a), _ts(b)) for _, a, b in rows if a and b])
    if overlap > LIMIT:
        problems.append(f"{overlap} imports at once (limit {LIMIT})")
    return elapsed, "; ".join(problems)


def burst_case(rep: Report, work: Path, n: int, repeat: int) -> None:
    """``n`` small files dropped at once into a service with --max-concurrent 2; the best of ``repeat`` runs,
    each a fresh service (warmed up: both worker processes started) with new files."""
    times, problems = [], []
    for r in range(repeat):
        elapsed, problem = one_burst(work, n, r)
        times.append(elapsed)
        if problem:
            problems.append(problem)
    rates = sorted(n / t for t in times)
    rep.at_least(f"burst of {n:,} small files, --max-concurrent {LIMIT}", rates[-1], 120, "files/s",
                 f"best of {repeat}; runs {', '.join(f'{x:.0f}' for x in rates)} files/s; " +
                 ("; ".join(problems) if problems else f"every one archived, never more than {LIMIT} at once"),
                 ok=not problems)
