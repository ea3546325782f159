"""Issue 26.13: ``aimport run --http HOST:PORT`` on a port that is taken stops with a one-line error naming the
address and ``--http`` (exit code non-zero, no traceback), and leaves nothing behind that stops the next start."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.serviceprocess import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.parametrize("given", ["flag", "variable"])
def test_a_port_in_use_is_one_line_naming_the_address_and_http(service: ServiceProcess, taken: int,
                                                                given: str) -> None:
    address = f"127.0.0.1:{taken}"
    if given == "flag":
        service.args += ["--http", address]
    else:
        service.env["AIMPORT_HTTP"] = address
    service.start(wait=False)
    assert service.wait_exit(30) != 0
    out = service.output()
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if "error:" in line]
    assert len(errors) == 1 and out.strip().splitlines()[-1] == errors[0], out
    line = errors[0]
    assert line.startswith("aimport run: error: "), line
    assert address in line and "in use" in line and "--http" in line, line
    assert "Errno" not in line, line

    service.args = [a for a in service.args if a != address and a != "--http"]  # the next start, on a free port
    service.env.pop("AIMPORT_HTTP", None)
    service.start()  # the state directory's lock went with the process that failed
    assert service.readyz() is not None


def test_an_address_not_on_this_host_is_named_too(service: ServiceProcess) -> None:
    if _binds("192.0.2.1"):  # TEST-NET-1: no interface of this host has it (unless non-local binds are allowed)
        pytest.skip("this host lets a program listen on an address it does not have (ip_nonlocal_bind)")
    service.args += ["--http", "192.0.2.1:8080"]
    service.start(wait=False)
    assert service.wait_exit(30) != 0
    out = service.output()
    line = out.strip().splitlines()[-1]
    assert "Traceback" not in out and line.startswith("aimport run: error: "), out
    assert "192.0.2.1:8080" in line and "--http" in line and "Errno" not in line, line


def _binds(host: str) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
        return True
