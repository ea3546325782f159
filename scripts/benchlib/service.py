"""Measurements on the real service: end-to-end time, process-tree memory, idle CPU, claim latency."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from benchlib import inputs
from tests.helpers import query, wait_for
from tests.serviceprocess import ServiceProcess

__all__ = ["TreeMemory", "aged", "claim_latencies", "e2e", "e2e_wait", "idle_cpu_percent", "max_loop_lag_ms",
           "start_service", "status_of"]

CLK = os.sysconf("SC_CLK_TCK")


def start_service(work: Path, name: str, *args: str, store: str = "sqlite") -> ServiceProcess:
    """A fresh service (``store``: a ``postgresql://`` URL, else its own SQLite file), warmed up with one tiny
    import in each of two lanes (both worker processes started, the store's schema made)."""
    s = ServiceProcess(root=work / name / "root", state=work / name / "state", args=["--settle-ms", "1000", *args],
                       store=store).start()
    warm = []
    for t_name in ("Skills", "Presence"):  # two at once, so that two worker processes are started
        p = aged(inputs.text(work / f"warm-{name}-{t_name}.txt", ["Name"], iter([["warm-up"]])))
        os.replace(p, s.layout.type_dir(t_name) / p.name)
        warm.append((t_name, p.name))
    for t_name, file_name in warm:
        e2e_wait(s, t_name, file_name)
    return s


def aged(p: Path) -> Path:
    """A finished file that arrives by rename (mtime older than the settle time): taken at once."""
    old = time.time() - 60
    os.utime(p, (old, old))
    return p


def e2e_wait(s: ServiceProcess, t_name: str, name: str) -> None:
    wait_for(lambda: list(s.layout.history_dir(t_name).glob(f"*_{name}.result")), 1800, interval=0.01)


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: the worker processes and the staging helpers they start."""
    out, todo = [], children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the resident memory of the service plus every process below it (its worker processes and their
    staging helpers): the peak of the sum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = rss_kb(self.pid) + sum(rss_kb(c) for c in descendants(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(0.02)

    def __enter__(self) -> TreeMemory:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        hwm = rss_kb(self.pid, "VmHWM") + max([rss_kb(c, "VmHWM") for c in children(self.pid)] or [0])
        self.peak_kb = max(self.peak_kb, hwm)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def e2e(svc: ServiceProcess, src: Path, import_type: str, timeout: float = 1800) -> float:
    """Seconds from the drop (atomic rename) to the .result file."""
    hist = svc.layout.history_dir(import_type)
    t = time.perf_counter()
    os.replace(src, svc.layout.type_dir(import_type) / src.name)
    wait_for(lambda: list(hist.glob(f"*_{src.name}.result")), timeout, interval=0.01, what=f"{src.name} imported")
    return time.perf_counter() - t


def status_of(svc: ServiceProcess, import_type: str, name: str) -> str:
    res = next(svc.layout.history_dir(import_type).glob(f"*_{name}.result"))
    return dict(line.split(": ", 1) for line in res.read_text().splitlines() if ": " in line).get("status", "?")


def idle_cpu_percent(svc: ServiceProcess, seconds: float) -> float:
    assert svc.proc is not None

    def ticks() -> int:
        fields = Path(f"/proc/{svc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    time.sleep(2.0)  # let start-up settle
    a, t = ticks(), time.perf_counter()
    time.sleep(seconds)
    return (ticks() - a) / CLK / (time.perf_counter() - t) * 100


def claim_latencies(svc: ServiceProcess, staging: Path, n: int, settle_s: float) -> list[float]:
    """Drop small files one by one; seconds from drop to claim beyond the settle time."""
    out = []
    folder = svc.layout.type_dir("Skills")
    for i in range(n):
        p = staging / f"lat{i}.txt"
        p.write_bytes(b"\xef\xbb\xbfName\r\nlat %d\r\n" % i)
        target = folder / p.name
        t = time.perf_counter()
        os.replace(p, target)
        while target.exists():
            time.sleep(0.002)
        out.append(time.perf_counter() - t - settle_s)
        wait_for(lambda pattern=f"*_{p.name}.result": list(svc.layout.history_dir("Skills").glob(pattern)), 30,
                 interval=0.01)
    return out


def max_loop_lag_ms(svc: ServiceProcess) -> float:
    import json

    rows = query(svc.audit_db, "SELECT detail FROM events WHERE kind = 'service_stopped' ORDER BY id DESC LIMIT 1")
    return float(json.loads(rows[0][0]).get("max_loop_lag_ms", 0.0)) if rows else float("nan")
