"""The HTTP endpoints answer from the start, also while the system store cannot be reached (issue 26.11).

A sidecar whose PostgreSQL server is not up yet waits for it (with backoff); meanwhile /readyz says
503 "not ready" with the reason, /healthz 200, and /metrics answers; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, wait_for
from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def _get(svc: ServiceProcess, path: str) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(f"http://{svc.http}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None


def test_readyz_answers_while_the_store_is_unreachable_at_start(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the store's server is "not up yet"
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state",
                         store=f"postgresql://aimport@127.0.0.1:{port}/aimport")
    svc.start(wait=False)
    try:
        first = wait_for(lambda: _get(svc, "/readyz"), 20, what="/readyz answering")
        assert first[0] == 503 and json.loads(first[1])["checks"]["started"] is False  # from the first answer on
        # what it waits for, once the first connection to the store has failed (the first answer may come before)
        status, body = wait_for(lambda: (lambda r: r if r and str(port) in json.loads(r[1]).get("starting", "") else None)(
            _get(svc, "/readyz")), 20, what="/readyz naming the store it waits for")
        answer: dict[str, Any] = json.loads(body)
        assert status == 503 and answer["status"] == "not ready", answer
        assert answer["checks"]["started"] is False
        assert f"127.0.0.1:{port}" in answer["starting"] and "system store" in answer["starting"], answer
        health = _get(svc, "/healthz")
        assert health is not None and health[0] == 200
        metrics = _get(svc, "/metrics")
        assert metrics is not None and metrics[0] == 200 and b"aimport_store_up 0.0" in metrics[1], metrics
        assert svc.proc is not None and svc.proc.poll() is None  # still waiting for the store, not stopped
        svc.proc.send_signal(signal.SIGHUP)  # no reload yet, and no end either
        wait_for(lambda: "SIGHUP during start-up" in svc.output(), 10, what="the SIGHUP warning")
        assert svc.proc.poll() is None
        assert svc.stop() == 0  # SIGTERM while waiting for the store: a clean stop
        assert "received SIGTERM: shutting down" in svc.output()
    finally:
        svc.stop()
