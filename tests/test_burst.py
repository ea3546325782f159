"""Many small files at once: all archived, the limit holds, memory stays bounded, status answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import query, wait_for
from tests.serviceprocess import ServiceProcess
from tests.test_concurrency import _ts, max_overlap

pytestmark = pytest.mark.e2e
KINDS = [("Skills", "Name"), ("Presence", "Name"), ("Calendar", "Name"), ("BlockedNumbers", "Number"),
         ("UserGroup", "Name"), ("Directory", "LastName"), ("Queues", "Name"), ("Scripts", None)]


def one_row_files(staging: Path, n: int, tag: str = "0") -> list[tuple[str, Path]]:
    """``n`` one-row UTF-8 text files over :data:`KINDS` in ``staging``, each with its own name and value
    (``tag`` keeps several bursts apart); ``(import type, path)`` in the order written."""
    made = []
    for i in range(n):
        t, col = KINDS[i % len(KINDS)]
        p = staging / f"b{tag}-{t}-{i:05d}.txt"
        if col is None:
            body = f"Script\tQuestionId\tQuestion\r\nS{tag}-{i}\tQ1\tWhy?\r\n"
        elif col == "Number":
            body = f"Number\r\n+3584{tag}{i:07d}\r\n"
        else:
            body = f"{col}\r\n{t}-{tag}-{i}\r\n"
        p.write_bytes(b"\xef\xbb\xbf" + body.encode())
        made.append((t, p))
    return made


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def burst(service: ServiceProcess, tmp_path: Path, n: int) -> dict[str, float]:
    service.args += ["--max-concurrent", "2", "--max-pending", "200", "--settle-ms", "100"]
    service.start()
    staging = tmp_path / "staging"
    staging.mkdir()
    made = one_row_files(staging, n)
    t0 = time.monotonic()
    for t, p in made:
        os.replace(p, service.layout.type_dir(t) / p.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMPORT_")}
    status_s = []
    while query(service.audit_db, "SELECT COUNT(*) FROM imports WHERE status NOT IN ('queued','in_process')")[0][0] < n:
        s0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "aimport", "status", "--json", "--root", str(service.root),
                            "--server", service.server, "--state-dir", str(service.state)],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        status_s.append(time.monotonic() - s0)
        assert time.monotonic() - t0 < 900, "burst did not finish"
        time.sleep(0.5)
    elapsed = time.monotonic() - t0
    assert service.proc is not None
    rss = peak_rss_mb(service.proc.pid)
    rows = query(service.audit_db, "SELECT status, started_at, finished_at FROM imports")
    assert len(rows) == n and {r[0] for r in rows} == {"succeeded"}
    assert max_overlap([(_ts(a), _ts(b)) for _, a, b in rows]) == 2
    for t, _ in KINDS:
        assert not [p for p in service.layout.type_dir(t).iterdir() if p.is_file()]
        assert not list(service.layout.in_process_dir(t).iterdir())
    print(f"\nburst of {n}: {elapsed:.1f}s, {n / elapsed:.0f} files/s, service peak RSS {rss:.0f} MB, "
          f"status p_max {max(status_s):.2f}s over {len(status_s)} calls")
    return {"rss": rss, "status_max": max(status_s)}


def test_burst_ci_size(service: ServiceProcess, tmp_path: Path) -> None:
    out = burst(service, tmp_path, 1000)
    assert out["rss"] < 400


@pytest.mark.slow
def test_burst_10000(service: ServiceProcess, tmp_path: Path) -> None:
    out = burst(service, tmp_path, 10_000)
    assert out["rss"] < 400
    wait_for(lambda: True, 1)
