"""Operator views of the audit trail: --failed, --file, --csv, --json, and retention."""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from aimport.importing.outcome import Totals
from aimport.store.audit import Audit
from tests.helpers import Cli, drop, query, wait_archived, wait_for, write_openpyxl, write_text
from tests.serviceprocess import ServiceProcess


def seed(db: Path) -> None:
    async def go() -> None:
        async with Audit(db) as a:
            for name, status, code in (("ok.xlsx", "succeeded", None), ("bad.txt", "failed", "NO_ROWS"),
                                       ("half.txt", "partial", "ROWS_REJECTED"), ("running.txt", "in_process", None)):
                i = await a.start_import("Skills", name, 10, "2020-01-01T00:00:00.000Z", "admin")
                await a.event("claimed", i, file=name)
                if status != "in_process":
                    await a.finish_import(i, status, code, "abc", Totals(rows=1), 5)
    anyio.run(go)


def test_filters_and_formats(cli: Cli, tmp_path: Path) -> None:
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


def follow(args: list[str], until: Callable[[list[str]], bool], action: Callable[[], None]) -> list[str]:
    """Run ``aimport audit ... --follow`` (a process: it runs until stopped), do ``action`` once it printed
    something, read until ``until``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    proc = subprocess.Popen([sys.executable, "-m", "aimport", "audit", *args, "--follow"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None

    def reader() -> None:
        for line in iter(stdout.readline, ""):
            lines.put(line)

    threading.Thread(target=reader, daemon=True).start()
    seen: list[str] = []
    try:
        seen.append(lines.get(timeout=15))
        action()
        while not until(seen):
            seen.append(lines.get(timeout=10))
        return seen
    finally:
        proc.terminate()
        proc.wait(10)


def test_follow_prints_imports_as_they_finish(tmp_path: Path) -> None:
    seed(tmp_path / "audit.sqlite")

    def more() -> None:
        async def go() -> None:
            async with Audit(tmp_path / "audit.sqlite") as a:
                i = await a.start_import("Queues", "late.txt", 1, "2020-01-01T00:00:00.000Z", "admin")
                await a.finish_import(i, "failed", "NO_HEADER", "x", None, 7)
        anyio.run(go)

    out = follow(["--json", "--state-dir", str(tmp_path)], lambda s: any("late.txt" in x for x in s), more)
    rows = [json.loads(x) for x in out]  # one JSON object per line, also for the first batch
    assert [r["file_name"] for r in rows] == ["ok.xlsx", "bad.txt", "half.txt", "running.txt", "late.txt"]
    assert rows[-1]["error_code"] == "NO_HEADER"
    out = follow(["tail", "--csv", "--limit", "1", "--state-dir", str(tmp_path)],
                 lambda s: any(",service_stopped," in x for x in s), lambda: anyio.run(event, tmp_path / "audit.sqlite"))
    assert out[0].startswith("id,at,import_id,kind,detail") and len(out) == 3


async def event(db: Path) -> None:
    async with Audit(db) as a:
        await a.event("service_stopped", None, pid=1)


def sql_blocks() -> dict[str, tuple[str, str]]:
    """The ```sql blocks of docs/operations/audit.md: title -> (database, text)."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "operations" / "audit.md").read_text()
    out = {}
    for block in re.findall(r"```sql\n(.*?)```", doc, re.S):
        lines = block.splitlines()
        db = lines[0].removeprefix("-- sqlite3 ").strip()
        out[lines[1].removeprefix("-- ").strip()] = (db, block)
    return out


def run_block(db: str, text: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        rows: list[tuple[Any, ...]] = []
        stmt = ""
        for line in text.splitlines(keepends=True):
            stmt += line
            if sqlite3.complete_statement(stmt):
                rows = conn.execute(stmt).fetchall()
                stmt = ""
        return rows
    finally:
        conn.close()


def test_documented_queries_and_retention_at_start(service: ServiceProcess, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SQL block of the operations guide runs against a real service's stores and answers right."""
    service.state = tmp_path / "state"
    anyio.run(old_import, service.audit_db)
    service.args += ["--audit-retention-days", "30"]
    service.start()
    wait_for(lambda: "audit retention: pruned 1 import(s)" in service.output(), 10, what="retention at start")
    conf = write_openpyxl(tmp_path / "conf.xlsx", {"Skills": [["Name"], ["Sales"]],
                                                   "Users": [["Login", "FirstName", "Surname"], ["ann", "Ann", "Lee"]]})
    drop(conf, service.layout.type_dir("Configuration"))
    drop(write_text(tmp_path / "bad.txt", [["Nope"], ["a"]]), service.layout.type_dir("Skills"))
    [hist] = wait_archived(service.layout, "Configuration", "conf.xlsx")
    wait_archived(service.layout, "Skills", "bad.txt")
    finished = "SELECT COUNT(*) FROM imports WHERE finished_at IS NOT NULL"
    wait_for(lambda: query(service.audit_db, finished) == [(2,)], 10, what="audit rows finished")  # .result comes first
    monkeypatch.chdir(tmp_path)
    blocks = sql_blocks()
    assert len(blocks) >= 8
    results = {title: run_block(db, text) for title, (db, text) in blocks.items()}
    assert [r[2:5] for r in results["what failed today (since local midnight)"]] == [("bad.txt", "failed", "NO_HEADER")]
    assert {r[0]: r[1] for r in results["how long imports take per type (last 30 days)"]} == {"Configuration": 1, "Skills": 1}
    assert [r[:2] for r in results["error codes this week"]] == [("NO_HEADER", "Skills")]
    assert results["what is stuck (in process for more than 10 minutes)"] == []
    assert [r[1] for r in results["when the concurrency limit was changed, and service restarts"]] == ["service_started"]
    [who] = results["which file created this user, and which file changed it last"]
    assert who[:2] == ("ann", "conf.xlsx") and who[3] == hist.name and who[4] == "conf.xlsx"
    assert sorted(results["everything one file created"]) == [("skill", "Sales"), ("user", "ann")]
    assert query(service.audit_db, "SELECT file_name FROM imports WHERE file_name = 'ancient.txt'") == []
    if shutil.which("sqlite3"):  # ready to paste: the sqlite3 shell accepts each block as written
        for db, text in blocks.values():
            r = subprocess.run(["sqlite3", db], input=text, capture_output=True, text=True, timeout=10)
            assert r.returncode == 0 and not r.stderr, r.stderr


async def old_import(db: Path) -> None:
    async with Audit(db) as a:
        i = await a.start_import("Skills", "ancient.txt", 1, "2001-01-01T00:00:00.000Z", "admin")
        await a.finish_import(i, "succeeded", None, "x", Totals(rows=1), 5)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE imports SET started_at = '2001-01-01T00:00:00.000Z', finished_at = '2001-01-01T00:00:01.000Z'")
    conn.commit()
    conn.close()
