"""The one error of an operator's action (release, retry, cancel) that cannot be done."""

from __future__ import annotations

__all__ = ["ActionRefused"]


class ActionRefused(Exception):
    """``message`` says why and what to do, in one line; ``status`` is the HTTP status that answers it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message
