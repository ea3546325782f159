"""HTTP/1.1 on one connection: parse a request head, write an answer with the security headers every answer carries."""

from __future__ import annotations

import http
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio
from anyio.abc import SocketStream

__all__ = ["MAX_HEAD", "Request", "Response", "error", "head_bytes", "json_response", "parse", "send"]

MAX_HEAD = 16384
# the page loads only what aimport serves; nothing may frame it; answers are never sniffed as another type
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str] = field(default_factory=dict)  # the first value of each parameter
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    repeated: frozenset[str] = frozenset()  # parameters given more than once (aimport.web.params refuses them)

    def cookie(self, name: str) -> str:
        for part in self.headers.get("cookie", "").split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                return unquote(value)
        return ""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def parse(head: bytes) -> Request | None:
    """The request in ``head`` (everything up to the blank line); None when it is not a well-formed HTTP/1.x request."""
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    try:
        lines = head[:end].decode("ascii").split("\r\n")
    except UnicodeDecodeError:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/") or not parts[0].isalpha():
        return None
    target, _, query = parts[1].partition("?")
    try:
        path = unquote(target, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\x00" in path:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    params: dict[str, str] = {}
    repeated: set[str] = set()
    try:  # strict: a query that is not UTF-8 percent-encoding is no request (400), not U+FFFD in a value
        for key, value in parse_qsl(query, keep_blank_values=True, max_num_fields=32, errors="strict"):
            if key in params:
                repeated.add(key)
            params.setdefault(key, value)
    except ValueError:  # UnicodeDecodeError too
        return None
    return Request(parts[0], path, params, headers, frozenset(repeated))


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, default=str, separators=(",", ":")).encode()
    return Response(status, body, "application/json", (("Cache-Control", "no-store"),))


def error(status: int, message: str, *headers: tuple[str, str]) -> Response:
    return Response(status, json.dumps({"error": message}).encode(), "application/json",
                    (("Cache-Control", "no-store"), *headers))


def head_bytes(status: int, content_type: str, length: int | None, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """The status line and headers of an answer (no Content-Length: a stream that ends when the connection closes)."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += ["Connection: close", f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}"]
    lines += [f"{k}: {v}" for k, v in (*SECURITY_HEADERS, *headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(stream: SocketStream, method: str, response: Response) -> None:
    """Write the whole answer (no body for HEAD); a client that went away is not an error."""
    data = head_bytes(response.status, response.content_type, len(response.body), response.headers)
    try:
        await stream.send(data + (b"" if method == "HEAD" else response.body))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
