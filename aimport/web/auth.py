"""Who may read the jobs view: on a loopback address anyone on the host; elsewhere only with ``http_token``.

The token comes as ``Authorization: Bearer TOKEN`` (scripts, Prometheus) or as the ``aimport_token``
cookie the page sets when it is typed in once (a browser's EventSource cannot send a header). When
a token is set it is required on every address. Without a token on a loopback address, a request must
also name a loopback host (``Host: 127.0.0.1:8080``, ``localhost``): a web page the operator visits
cannot reach the view through a DNS name rebound to 127.0.0.1. On a non-loopback address without a
token the view is off (403, and one log line at start); /healthz and /readyz are always open, /metrics
is open unless ``metrics_public`` is false.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

from aimport.settings import Settings
from aimport.web.httpio import Request, Response, error

__all__ = ["COOKIE", "Access", "is_loopback"]

COOKIE = "aimport_token"
OFF = ("the jobs view is off: the service listens on a non-loopback address and no http_token is set "
       "(set AIMPORT_HTTP_TOKEN, or listen on 127.0.0.1)")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(header: str) -> str:
    """The host part of a Host header (``[::1]:8080`` -> ``::1``, ``localhost:8080`` -> ``localhost``)."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


@dataclass(frozen=True)
class Access:
    """The access rule of one running HTTP endpoint."""

    loopback: bool  # the listen address is a loopback address
    token: str = field(default="", repr=False)
    metrics_public: bool = True

    @classmethod
    def of(cls, settings: Settings, host: str) -> Access:
        return cls(is_loopback(host), settings.http_token, settings.metrics_public)

    @property
    def view_on(self) -> bool:
        return bool(self.token) or self.loopback

    def token_sent(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else request.cookie(COOKIE)
        return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def check(self, request: Request) -> Response | None:
        """None when ``request`` may read the view; else the answer (401 or 403)."""
        if not self.view_on:
            return error(403, OFF)
        if self.token:
            if self.token_sent(request):
                return None
            return error(401, "a token is needed: send Authorization: Bearer TOKEN (the http_token setting)",
                         ("WWW-Authenticate", 'Bearer realm="aimport"'))
        host = request.headers.get("host", "")
        if host and not is_loopback(_host_of(host)):
            return error(403, "without http_token the jobs view answers only requests for a loopback host "
                              "(127.0.0.1, localhost); set http_token to serve other names")
        return None

    def metrics_open(self, request: Request) -> bool:
        return self.metrics_public or self.check(request) is None
