"""Operator views of the audit trail: --failed, --file, --csv, --json, and retention."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio

from aimport.audit import Audit


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    return subprocess.run([sys.executable, "-m", "aimport", *args], capture_output=True, text=True, env=env, timeout=60)


def seed(db: Path) -> None:
    async def go() -> None:
        async with Audit(db) as a:
            for name, status, code in (("ok.xlsx", "succeeded", None), ("bad.txt", "failed", "NO_ROWS"),
                                       ("half.txt", "partial", "ROWS_REJECTED"), ("running.txt", "in_process", None)):
                i = await a.start_import("Skills", name, 10, "2020-01-01T00:00:00.000Z", "admin")
                await a.event("claimed", i, file=name)
                if status != "in_process":
                    await a.finish_import(i, status, code, "abc", {"rows": 1}, 5)
    anyio.run(go)


def test_filters_and_formats(tmp_path: Path) -> None:
    seed(tmp_path / "audit.sqlite")
    r = cli("audit", "--failed", "--json", "--state-dir", str(tmp_path))
    assert sorted(x["file_name"] for x in json.loads(r.stdout)) == ["bad.txt", "half.txt"]
    r = cli("audit", "--file", "half", "--csv", "--state-dir", str(tmp_path))
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["file_name"], x["error_code"]) for x in rows] == [("half.txt", "ROWS_REJECTED")]
    r = cli("audit", "--status", "in_process", "--state-dir", str(tmp_path))
    assert "running.txt" in r.stdout and "ok.xlsx" not in r.stdout
    r = cli("audit", "tail", "--limit", "2", "--json", "--state-dir", str(tmp_path))
    assert len(json.loads(r.stdout)) == 2


def test_retention_prunes_old_finished_rows_only(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    seed(db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE imports SET started_at = '2000-01-01T00:00:00.000Z', finished_at = '2000-01-01T00:00:01.000Z'")
    conn.execute("UPDATE events SET at = '2000-01-01T00:00:00.000Z'")
    conn.commit()
    conn.close()

    async def prune() -> int:
        async with Audit(db) as a:
            return await a.prune(365)

    assert anyio.run(prune) == 3
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)  # the in-flight import's event stays
    conn.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT file_name, status FROM imports").fetchall() == [("running.txt", "in_process")]
