"""The one error of a cell that cannot be accepted, and how a cell's value is quoted in its reason."""

from __future__ import annotations

__all__ = ["Invalid", "show"]


class Invalid(ValueError):
    """A cell value is not acceptable; the message says why."""


def show(text: str, limit: int = 60) -> str:
    """A cell value quoted for a .log reason, shortened when long (a cell may hold 32,767 characters)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"
