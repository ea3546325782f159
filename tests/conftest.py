from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServiceProcess


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    """A not-yet-started service on a temporary root; stopped (or killed) at teardown."""
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state")
    yield svc
    try:
        svc.stop(timeout=15)
    except Exception:  # noqa: BLE001 - whatever stopping hit, the process must not outlive the test
        svc.kill()


@pytest.fixture
def started(service: ServiceProcess) -> ServiceProcess:
    return service.start()
