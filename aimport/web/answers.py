"""The answers of the HTTP endpoint: JSON with ``Cache-Control: no-store``, errors as ``{"error": "..."}``.

The security headers every answer carries are added by :mod:`aimport.web.guard`, not here.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = ["error", "json_answer"]

NO_STORE = ("Cache-Control", "no-store")


def json_answer(payload: Any, status: int = 200, *headers: tuple[str, str]) -> Response:
    body = json.dumps(payload, default=str, separators=(",", ":")).encode()
    return Response(body, status, dict((NO_STORE, *headers)), "application/json")


def error(status: int, message: str, *headers: tuple[str, str]) -> Response:
    """``{"error": message}`` with ``status``: the message says what to do, in one line."""
    return Response(json.dumps({"error": message}).encode(), status, dict((NO_STORE, *headers)), "application/json")
