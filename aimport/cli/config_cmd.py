"""``aimport template`` and ``aimport export`` (templates and Configuration workbooks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aimport.cli import CommandError
from aimport.cli.common import add_settings, settings_from
from aimport.layout import IMPORT_TYPES


def register(sub: Any) -> None:
    t = sub.add_parser(
        "template", help="write an Excel template for an import type",
        description="Write a template with the headers of an import type: each header has a comment "
        "describing the column (mandatory ones in red and marked MANDATORY) and fixed value sets get "
        "drop-down lists. --format txt writes a UTF-8-BOM tab-delimited file with a note row that the "
        "importer skips. --all -o DIR writes the whole 'Examples and Templates' folder.",
    )
    t.add_argument("type", nargs="?", help=f"one of {', '.join(IMPORT_TYPES)}, or Users")
    t.add_argument("-o", "--output", type=Path, required=True, help="file (or folder with --all)")
    t.add_argument("--format", choices=["xlsx", "txt"], default=None, help="default: from the file extension, else xlsx")
    t.add_argument("--all", action="store_true", help="every template into the folder given with -o")
    t.set_defaults(handler=do_template)
    e = sub.add_parser(
        "export", help="export configuration items as a Configuration workbook",
        description="Write the configuration items of the system store as a Configuration workbook "
        "(sheets Calendars, Skills, PresenceProfiles, Scripts, Queues, UserGroups, Users) without internal "
        "Ids, with the headers the importer reads. Drop it into another system's Configuration folder.",
    )
    e.add_argument("-o", "--output", type=Path, required=True, help="the .xlsx to write")
    e.add_argument("--items", help="comma-separated subset, e.g. users,queues (default: all)")
    add_settings(e, ["state_dir"])
    e.set_defaults(handler=do_export)


def do_template(args: argparse.Namespace) -> int:
    from aimport import templates

    try:
        if args.all:
            for p in templates.write_all(args.output):
                print(p)
            return 0
        if not args.type:
            raise CommandError("name an import type, or use --all", 2)
        fmt = args.format or ("txt" if args.output.suffix.lower() == ".txt" else "xlsx")
        write = templates.write_txt if fmt == "txt" else templates.write_xlsx
        print(write(args.type, args.output))
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    return 0


def do_export(args: argparse.Namespace) -> int:
    from aimport.export import export_configuration

    settings = settings_from(args)
    if not settings.system_db.exists():
        raise CommandError(f"no system store at {settings.system_db} (use --state-dir)")
    if args.output.suffix.lower() != ".xlsx":
        raise CommandError("the export is an Excel workbook: give -o a .xlsx name", 2)
    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    try:
        counts = export_configuration(settings.system_db, args.output, items)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    for sheet, n in counts.items():
        print(f"{sheet}: {n} row(s)")
    print(f"written: {args.output}")
    return 0
