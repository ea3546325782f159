"""Bounded answers and strict parameters of the jobs view (issue 26, items 3 and 4), against the real service.

Item 3: an import of 30,000 rejected rows (.log 2.4 MB) made each detail answer 1.4 MB, built on the event loop;
50 parallel GETs of it held the loop 2.8 s and /healthz answered after 5 s. Now an answer holds one page of log
lines and one of rejected rows (with their totals) and is built in a worker thread. Item 4: ``?limit=%C2%B2``
(a superscript two: a digit to Python) closed the connection without an answer and logged an ERROR per
request. Now any malformed parameter, on every path, is a 400 with a short reason.

:func:`detail_storm` is also the ``--detail-storm`` case of ``scripts/soak``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import drop, write_text
from tests.serviceprocess import ServiceProcess

__all__ = ["Storm", "detail_storm", "rejected_file"]

pytestmark = pytest.mark.e2e


def rejected_file(path: Path, rejected: int) -> Path:
    """Skills with one good row and ``rejected`` rows without a name (each a REJECT line in the .log)."""
    return write_text(path, [["Name", "Description"], ["Good", "kept"], *([["", f"no name {i}"] for i in range(rejected)])])


def get(address: str, path: str, timeout: float = 60) -> tuple[int, bytes]:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@dataclass
class Storm:
    """What :func:`detail_storm` saw."""

    healthz_s: list[float] = field(default_factory=list)  # the latency of each /healthz probe
    statuses: Counter[int] = field(default_factory=Counter)  # of the detail answers
    biggest: int = 0  # bytes of the largest detail answer
    seconds: float = 0.0  # the storm's duration

    @property
    def worst_healthz_s(self) -> float:
        return max(self.healthz_s, default=0.0)


def detail_storm(address: str, path: str, clients: int = 50, rounds: int = 2) -> Storm:
    """``clients`` parallel clients each GET ``path`` ``rounds`` times while /healthz is probed every 20 ms."""
    storm, lock, stop = Storm(), threading.Lock(), threading.Event()

    def probe() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                status, _ = get(address, "/healthz", timeout=30)
            except OSError:
                status = 0
            took = time.perf_counter() - start
            storm.healthz_s.append(took if status == 200 else max(took, 30.0))
            stop.wait(0.02)

    def client() -> None:
        for _ in range(rounds):
            try:
                status, body = get(address, path)
            except OSError:
                status, body = 0, b""
            with lock:
                storm.statuses[status] += 1
                storm.biggest = max(storm.biggest, len(body))

    prober = threading.Thread(target=probe)
    prober.start()
    time.sleep(0.1)
    start = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    storm.seconds = time.perf_counter() - start
    stop.set()
    prober.join()
    return storm


def api(address: str, path: str) -> Any:
    status, body = get(address, path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def test_a_large_import_is_shown_a_page_at_a_time_and_never_stalls_the_loop(service: ServiceProcess,
                                                                              tmp_path: Path) -> None:
    service.start()
    drop(rejected_file(tmp_path / "rejects.txt", 30_000), service.layout.type_dir("Skills"))
    [data] = [p for p in service.wait_done("Skills", "rejects.txt", timeout=180) if p.suffix == ".txt"]
    assert data.with_name(data.name + ".log").stat().st_size > 2_000_000
    [row] = api(service.http, "/api/imports")["imports"]
    assert (row["status"], row["rejected"]) == ("partial", 30_000)
    one = f"/api/imports/{row['id']}"

    status, body = get(service.http, one)
    detail = json.loads(body)
    assert status == 200 and len(body) < 200_000, len(body)  # it was 1.4 MB
    assert len(detail["rejected"]) == 200 and detail["rejected_total"] == 30_000 and detail["rejected_offset"] == 0
    assert [r["row"] for r in detail["rejected"][:2]] == [3, 4]  # the header is row 1, "Good" row 2
    log = detail["log"]
    assert (log["offset"], len(log["lines"]), log["source"], log["truncated"]) == (0, 500, "history", False)
    total = log["total"]
    assert total >= 30_002 and "importing rejects.txt" in log["lines"][0]
    last = api(service.http, f"{one}?rejected_offset=29900&rejected_limit=1000")
    assert [r["row"] for r in last["rejected"]] == list(range(29_903, 30_003)) and last["rejected_total"] == 30_000
    tail = api(service.http, f"{one}?log_offset={total - 10}&log_limit=2000")["log"]
    assert len(tail["lines"]) == 10 and tail["offset"] == total - 10 and "finished: partial" in tail["lines"][-1]
    assert api(service.http, f"{one}?log_offset={total + 5}")["log"]["lines"] == []
    for too_many in ("log_limit=2001", "rejected_limit=1001", "log_limit=0"):
        assert get(service.http, f"{one}?{too_many}")[0] == 400, too_many

    storm = detail_storm(service.http, one, clients=50, rounds=2)
    print(f"50 clients x 2 GETs of the detail: {storm.seconds:.2f} s, worst /healthz {storm.worst_healthz_s * 1000:.0f} ms")
    assert storm.statuses == Counter({200: 100}) and storm.biggest < 200_000, storm.statuses
    # the target is 200 ms (scripts/soak --detail-storm reports it); a loaded CI machine gets some slack
    assert storm.worst_healthz_s < 1.0, f"/healthz took {storm.worst_healthz_s:.3f} s during the storm"
    assert "HTTP request failed" not in service.output() and " ERROR " not in service.output()


BAD = [  # (path, why it is malformed)
    ("/api/imports?limit=%C2%B2", "a Unicode digit (superscript two): the report"),
    ("/api/imports?limit=%D9%A1%D9%A2", "Arabic-Indic digits, which int() reads as 12"),
    ("/api/imports?limit=", "empty"),
    ("/api/imports?limit", "no value"),
    ("/api/imports?limit=-1", "negative"),
    ("/api/imports?limit=+5", "a sign"),
    ("/api/imports?limit=%205", "a space"),
    ("/api/imports?limit=5.0", "a fraction"),
    ("/api/imports?limit=1e2", "an exponent"),
    ("/api/imports?limit=0x10", "hexadecimal"),
    ("/api/imports?limit=1_0", "an underscore"),
    ("/api/imports?limit=99999999999999999999999", "too large"),
    ("/api/imports?limit=501", "above the maximum"),
    ("/api/imports?limit=10&limit=20", "given twice"),
    ("/api/imports?type=Skills&type=Queues", "a filter given twice"),
    ("/api/imports?type=skills", "a type in the wrong case"),
    ("/api/imports?type=%FF", "not UTF-8"),
    ("/api/imports?type=Skills%00", "a NUL"),
    ("/api/imports?status=%E2%80%A8", "a line separator"),
    ("/api/imports?lmit=5", "an unknown parameter"),
    ("/api/imports/1?log_offset=%C2%B2", "a Unicode digit in a detail parameter"),
    ("/api/imports/1?log_limit=-3", "negative"),
    ("/api/imports/1?rejected_offset=1.5", "a fraction"),
    ("/api/imports/1?rejected_limit=", "empty"),
    ("/api/imports/1?limit=5", "a parameter of another path"),
    ("/api/imports/%C2%B2", "a Unicode digit as the import id"),
    ("/api/imports/1.0", "a fraction as the import id"),
    ("/api/imports/1234567890123", "an import id too long"),
    ("/imports/%C2%B2", "the page of an import, with a Unicode digit"),
    ("/?type=Nope", "the page's filter"),
    ("/?status=%C2%B2", "the page's filter"),
    ("/imports/1?x=1", "the page of an import takes no parameter"),
    ("/api/summary?x=1", "the summary takes no parameter"),
    ("/api/campaigns?limit=1", "the campaigns take no parameter"),
    ("/api/events?since=%C2%B2", "the live stream takes no parameter"),
    ("/static/app.js?v=%C2%B2", "an asset takes no parameter"),
]


def test_every_malformed_parameter_is_a_400_with_a_short_reason(service: ServiceProcess, tmp_path: Path) -> None:
    service.start()
    drop(rejected_file(tmp_path / "few.txt", 3), service.layout.type_dir("Skills"))
    service.wait_done("Skills", "few.txt")
    for path, why in BAD:
        status, body = get(service.http, path, timeout=10)
        assert status == 400, (path, why, status, body[:200])
        reason = json.loads(body)["error"]
        assert 0 < len(reason) <= 160 and "\n" not in reason, (path, reason)
    for path in ("/api/imports?limit=500", "/api/imports?type=&status=", "/api/imports/1?log_offset=0&rejected_limit=1",
                 "/?type=Skills&status=failed", "/imports/1", "/api/summary", "/static/app.js"):
        assert get(service.http, path, timeout=10)[0] == 200, path  # well-formed ones still answer
    assert get(service.http, "/api/imports/999999", timeout=10)[0] == 404
    [row] = api(service.http, "/api/imports")["imports"]  # few.txt, partial: its rejected rows file downloads
    named = api(service.http, f"/api/imports/{row['id']}").get("rejected_file")
    assert named, row
    host, _, port = service.http.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", f"/api/imports/{row['id']}/rejected")
    r = conn.getresponse()
    body, disposition = r.read(), r.getheader("content-disposition") or ""
    conn.close()
    [on_disk] = [p for p in service.layout.history_dir("Skills").iterdir() if p.name == named]
    assert r.status == 200 and disposition.startswith("attachment;") and body == on_disk.read_bytes()
    for path, code in [("/api/imports/999999/rejected", 404), ("/api/imports/%C2%B2/rejected", 400),
                       (f"/api/imports/{row['id']}/rejected?x=1", 400)]:
        assert get(service.http, path, timeout=10)[0] == code, path
    assert api(service.http, "/healthz")["status"] == "ok"
    out = service.output()
    assert " ERROR " not in out and "HTTP request failed" not in out and "Traceback" not in out, out[-2000:]
