"""One request to the HTTP endpoint as the jobs view reads it: method, decoded path, strict query, headers, cookies.

Built once per request from its ASGI scope by :mod:`aimport.web.guard`, which refuses (400) what is not a
well-formed request: a target that is not a path, not UTF-8 percent-encoding or holds a NUL, a query that
is not UTF-8 percent-encoding or has more than 32 parameters (the server itself, Hypercorn on h11, refuses
malformed request lines and headers before this).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

__all__ = ["SCOPE_KEY", "Request", "request_of"]

SCOPE_KEY = "aimport.request"  # where the guard leaves the parsed request in the ASGI scope
MAX_FIELDS = 32


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str] = field(default_factory=dict)  # the first value of each parameter
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    repeated: frozenset[str] = frozenset()  # parameters given more than once (aimport.web.params refuses them)
    client: str = ""  # the peer's address

    def cookie(self, name: str) -> str:
        for part in self.headers.get("cookie", "").split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                return unquote(value)
        return ""


def request_of(scope: Mapping[str, Any]) -> Request | None:
    """The request of an ASGI ``http`` scope; None when it is not well-formed (see the module's text)."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
    try:
        target = raw.decode("ascii")
        path = unquote(target, errors="strict")
        query = scope.get("query_string", b"").decode("ascii")
    except UnicodeError:
        return None
    if not path.startswith("/") or "\x00" in path:
        return None
    params: dict[str, str] = {}
    repeated: set[str] = set()
    try:  # strict: a query that is not UTF-8 percent-encoding is no request (400), not U+FFFD in a value
        for key, value in parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"):
            if key in params:
                repeated.add(key)
            params.setdefault(key, value)
    except ValueError:  # UnicodeDecodeError too
        return None
    headers = {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in scope.get("headers", ())}
    client = scope.get("client") or ("", 0)
    return Request(str(scope.get("method", "GET")).upper(), path, params, headers, frozenset(repeated), str(client[0]))
