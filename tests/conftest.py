"""The fixtures every test can take (the helpers they give are in ``tests/helpers.py``).

Which one to take:

- ``store``: the test's system store, a ``StoreUnderTest``: ``store.imp(path, "Skills", phone_region="FI")``
  imports a file in-process (any ``ImportRequest`` field as a keyword), ``store.query(sql)`` reads it,
  ``store.open()`` connects, ``store.address`` is what aimport takes. It is ``tmp_path/system.sqlite``; mark the
  test ``@pytest.mark.both_stores`` (a module: ``pytestmark = pytest.mark.both_stores``) and it runs twice,
  ``[sqlite]`` and ``[postgresql]`` (a fresh database on the session's real PostgreSQL server).
- ``store_address``: only the address, always on both backends (tests of the store layer itself).
- ``cli``: a command that needs no running service (``check``, ``template``, ``export``, ``audit``, ``status``,
  ``campaign``, ``--help``, a refused setting): ``r = cli("audit", "--json", "--state-dir", state)`` calls
  ``aimport.cli.main`` in-process and gives ``r.returncode``, ``r.stdout``, ``r.stderr``; ``env=`` and ``cwd=``
  as a shell would (no ``AIMPORT_*`` variable leaks in from the test's environment). ``cli("run", ...)`` only for
  a setting ``run`` refuses: one it accepts would start the service inside the test's process.
- ``service`` (a ``ServiceProcess`` not yet started; ``service.args += [...]`` then ``service.start()``),
  ``started`` (already up), ``service_on_both`` (on each backend): the real ``aimport run`` as a subprocess,
  stopped at teardown. Take them only where the process boundary matters: the service's loop, signals, restarts.
- ``pg_url`` / ``pg_server``: a fresh PostgreSQL database / the server itself (``tests/pgserver.py``).

No sleeps and no timed assertions: wait on a condition (``helpers.wait_for``, ``ServiceProcess.wait_done``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Cli, StoreUnderTest
from tests.pgserver import pg_server, pg_url
from tests.serviceprocess import ServiceProcess

__all__ = ["pg_server", "pg_url"]  # the real PostgreSQL server's fixtures (tests/pgserver.py)

BACKENDS = ["sqlite", "postgresql"]
ALWAYS_ON_BOTH = {"store_address", "service_on_both"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run the test on each store backend (the store fixture)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test on both backends runs once per backend: ``[sqlite]`` then ``[postgresql]``."""
    if "backend" in metafunc.fixturenames and (metafunc.definition.get_closest_marker("both_stores") is not None
                                               or ALWAYS_ON_BOTH & set(metafunc.fixturenames)):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The test's store backend: ``sqlite`` unless it runs on both."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> StoreUnderTest:
    """The test's system store: ``tmp_path/system.sqlite``, or a fresh database on the real PostgreSQL server."""
    address = tmp_path / "system.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    return StoreUnderTest(address, tmp_path)


@pytest.fixture
def store_address(store: StoreUnderTest) -> Path | str:
    """The system store's address on each backend (``ServiceProcess(store=...)`` takes either)."""
    return store.address


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``aimport ARGS`` in-process: ``cli(*args, env=None, cwd=None)`` gives returncode, stdout and stderr."""
    return Cli(capsys, monkeypatch)


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
def service_on_both(tmp_path: Path, store: StoreUnderTest) -> Iterator[ServiceProcess]:
    """:func:`service` on each backend: its embedded SQLite store (in its state directory), then PostgreSQL."""
    yield from _service(tmp_path, store.address if isinstance(store.address, str) else "sqlite")


@pytest.fixture
def started(service: ServiceProcess) -> ServiceProcess:
    return service.start()
