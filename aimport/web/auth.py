"""Who may read the jobs view: on a loopback address anyone on the host; elsewhere only with ``http_token``.

The token comes as ``Authorization: Bearer TOKEN`` (scripts, Prometheus) or as the ``aimport_token``
cookie the page sets when it is typed in once (a browser's EventSource cannot send a header). When
a token is set it is required on every address. Without a token on a loopback address, a request must
also name a loopback host (``Host: 127.0.0.1:8080``, ``localhost``): a web page the operator visits
cannot reach the view through a DNS name rebound to 127.0.0.1. On a non-loopback address without a
token the view is off (403, and one log line at start); /healthz and /readyz are always open, /metrics
is open unless ``metrics_public`` is false.

Actions (POSTs to ``/api/actions/...``) take the same rule, and are refused across sites: a request that
carries an ``Origin`` (every browser sends one with a POST) must come from the page's own origin (its
scheme and the ``Host`` it asked for), ``Sec-Fetch-Site`` when sent must say same-origin, and the body
must be JSON (a form of another site cannot send that without a CORS preflight, which is never
answered). The cookie the page sets is ``SameSite=Strict``: a browser never sends it from another site.
Who asked is ``token`` (the token was sent) or ``loopback`` (no token set, a loopback address).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

from starlette.responses import Response

from aimport.settings import Settings
from aimport.web.answers import error
from aimport.web.request import Request

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

    def may_act(self, request: Request) -> Response | None:
        """None when ``request`` may take an action (the view's rule, from the page's own origin, JSON); else
        the answer (401, 403, 415)."""
        denied = self.check(request)
        if denied is not None:
            return denied
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is not None and origin.rstrip("/") not in (f"http://{host}", f"https://{host}"):
            return error(403, "a cross-site request: an action is taken only from the jobs view's own page "
                              "(its Origin must match the Host it asks)")
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return error(403, "a cross-site request: an action is taken only from the jobs view's own page")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return error(415, "an action's body is JSON: send Content-Type: application/json")
        return None

    def who(self, request: Request) -> str:
        """Who asked, for the audit trail: ``token`` or ``loopback`` (call after :meth:`check` let it in)."""
        return "token" if self.token else "loopback"
