"""``aimport template`` and ``aimport export`` (Configuration workbooks and templates)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    from aimport.cli import CommandError

    def todo(args: Any) -> int:
        raise CommandError(f"{args.command} is not available in this build yet")

    for name, text in (("template", "write an Excel template for an import type"),
                       ("export", "export configuration items as a Configuration workbook")):
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(handler=todo)
