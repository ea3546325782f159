"""scripts/bench runs end to end at smoke size and reports every case (numbers are not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pgserver import find_bindir

REPO = Path(__file__).resolve().parent.parent
CASES = ["xlsx import e2e", "vs openpyxl script", "tab-delimited import e2e", "Configuration workbook",
         "campaign import", "campaign export", "peak RSS, service and its processes", "--no-stage-helper", "--max-concurrent 2 vs 1",
         "drop-to-claim beyond settle, p50, events", "--poll", "idle CPU", "event-loop lag",
         "PostgreSQL xlsx import e2e", "PostgreSQL tab-delimited import e2e", "PostgreSQL raw COPY alone",
         "vs the store's ceiling", "PostgreSQL xlsx apply vs raw COPY", "PostgreSQL text apply vs raw COPY",
         "burst of", "apply with before-images / without", "before-images of the update",
         "units on one PostgreSQL store", "write turn held, share of wall time"]


@pytest.mark.e2e
def test_bench_smoke(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "bench"), "--size", "smoke", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert (tmp_path / "bench-results.md").exists(), f"rc {r.returncode}: {r.stderr[-3000:]}"
    report = (tmp_path / "bench-results.md").read_text()
    for case in CASES:
        assert case in report, case
    assert r.returncode in (0, 1), r.stderr[-2000:]  # 1 = some target missed at smoke size; the table says which
    assert "| rows | xlsx rows/s | txt rows/s |" in report
    if find_bindir() is not None or os.environ.get("CI"):  # CI installs PostgreSQL: the cases must have run
        pg_rows = [line for line in report.splitlines() if "| PostgreSQL" in line]
        assert pg_rows and not any("n/a" in line for line in pg_rows), pg_rows
