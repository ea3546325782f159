from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import STORES, ServiceProcess
from tests.pgserver import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]  # the real PostgreSQL server's fixtures (tests/pgserver.py)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_address(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The system store on each backend: ``tmp_path/system.sqlite``, or a fresh database on the session's real
    PostgreSQL server (its ``postgresql://`` URL). ``ServiceProcess(store=...)`` takes either."""
    if request.param == "sqlite":
        return tmp_path / "system.sqlite"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def on_both_stores(store_address: Path | str, tmp_path: Path) -> Iterator[Path | str]:
    """Run the test on each backend: ``helpers.store_of(tmp_path)`` gives the test's store (``pytestmark =
    pytest.mark.usefixtures("on_both_stores")`` in a module puts every test of it on both)."""
    STORES[tmp_path] = store_address
    yield store_address
    STORES.pop(tmp_path, None)


def _service(tmp_path: Path, store: Path | str = "sqlite") -> Iterator[ServiceProcess]:
    svc = ServiceProcess(root=tmp_path / "root", state=tmp_path / "state", store=store)
    yield svc
    try:
        svc.stop(timeout=15)
    except Exception:  # noqa: BLE001 - whatever stopping hit, the process must not outlive the test
        svc.kill()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    """A not-yet-started service on a temporary root; stopped (or killed) at teardown."""
    yield from _service(tmp_path)


@pytest.fixture
def service_on_both(tmp_path: Path, store_address: Path | str) -> Iterator[ServiceProcess]:
    """:func:`service` on each backend: its embedded SQLite store, then a real PostgreSQL server."""
    yield from _service(tmp_path, store_address)


@pytest.fixture
def started(service: ServiceProcess) -> ServiceProcess:
    return service.start()
