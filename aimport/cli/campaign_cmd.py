"""``aimport campaign``: list, show, record a call result, close, export."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    from aimport.cli import CommandError

    def todo(args: Any) -> int:
        raise CommandError("campaign is not available in this build yet")

    p = sub.add_parser("campaign", help="list, show, record a call result, close, export")
    p.set_defaults(handler=todo)
