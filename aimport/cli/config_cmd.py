"""``aimport template`` and ``aimport export`` (templates and Configuration workbooks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aimport.cli.common import CommandError, add_settings, need_store, settings_from
from aimport.layout import IMPORT_TYPES

__all__ = ["do_export", "do_template", "register"]


def register(sub: Any) -> None:
    t = sub.add_parser(
        "template", help="write an Excel template for an import type",
        description="Write a template with the headers the importer reads for an import type. In an .xlsx "
        "each header cell carries a comment describing the column (mandatory ones in red, marked MANDATORY) "
        "and columns with a fixed value set get a drop-down list; fill it in and drop it as it is. "
        "--format txt writes a UTF-8-BOM tab-delimited file with a note row of [MANDATORY; ...] / "
        "[optional; ...] cells under the header, which the importer skips. "
        "--all -o DIR writes the whole 'Examples and Templates' folder; with --examples it also holds a filled "
        "example per import type, numbered in the order that imports them into an empty system "
        "(01 UserGroup ... 10 OutboundCampaign): drop each into the folder its name starts with.",
        epilog="examples: aimport template Queues -o Queues.xlsx; aimport template Skills --format txt -o Skills.txt; "
        "aimport template Configuration -o Configuration.xlsx; aimport template --all -o 'Examples and Templates'",
    )
    t.add_argument("type", nargs="?", help=f"one of {', '.join(IMPORT_TYPES)}, or Users (a sheet of the Configuration workbook)")
    t.add_argument("-o", "--output", type=Path, required=True, help="the file to write (a folder with --all)")
    t.add_argument("--format", choices=["xlsx", "txt"], default=None,
                   help="xlsx (default) or txt; without it, a .txt output name means txt")
    t.add_argument("--all", action="store_true", help="every template (.xlsx, and .txt where possible) into the folder -o")
    t.add_argument("--examples", action="store_true",
                   help="with --all: also a filled example per import type, numbered in import order")
    t.set_defaults(handler=do_template)
    e = sub.add_parser(
        "export", help="export configuration items as a Configuration workbook",
        description="Write the configuration items of the system store as a Configuration workbook (sheets "
        "Calendars, Skills, PresenceProfiles, Scripts, Queues, Users) with the headers the importer reads, "
        "references by name and no internal Ids: drop it into another system's Configuration folder. "
        "User groups, directory entries and blocked numbers are not part of the Configuration workbook: "
        "--items usergroups (or directory, blockednumbers) on its own writes a one-sheet workbook for that "
        "type's folder. Import user groups before a Users sheet that refers to them.",
        epilog="examples: aimport export -o config.xlsx; aimport export -o agents.xlsx --items users,queues; "
        "aimport export -o groups.xlsx --items usergroups",
    )
    e.add_argument("-o", "--output", type=Path, required=True, help="the .xlsx to write (written to a temp name, then renamed)")
    e.add_argument("--items", help="comma-separated subset: calendars, skills, presenceprofiles, scripts, queues, users "
                   "(default: all of them), or one of usergroups, directory, blockednumbers alone")
    add_settings(e, ["state_dir", "store"])
    e.set_defaults(handler=do_export)


def do_template(args: argparse.Namespace) -> int:
    from aimport.workbooks import templates

    try:
        if args.all:
            if args.type:
                raise CommandError("give either an import type or --all, not both", 2)
            if args.output.exists() and not args.output.is_dir():
                raise CommandError(f"{args.output} is a file: --all writes into a folder", 2)
            written = templates.write_all(args.output)
            if args.examples:
                from aimport.workbooks.examples import write_examples

                written += write_examples(args.output)
            for p in written:
                print(p)
            return 0
        if args.examples:
            raise CommandError("--examples goes with --all (it writes a folder)", 2)
        if not args.type:
            raise CommandError("name an import type, or use --all", 2)
        fmt = args.format or ("txt" if args.output.suffix.lower() == ".txt" else "xlsx")
        if args.output.suffix.lower() not in {"txt": (".txt", ".tsv"), "xlsx": (".xlsx",)}[fmt]:
            raise CommandError(f"a {fmt} template needs a .{fmt} file name (got {args.output.name})", 2)
        _parent_exists(args.output)
        write = templates.write_txt if fmt == "txt" else templates.write_xlsx
        print(write(args.type, args.output))
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    return 0


def _parent_exists(path: Path) -> None:
    if not path.absolute().parent.is_dir():
        raise CommandError(f"no such folder: {path.absolute().parent}")


def do_export(args: argparse.Namespace) -> int:
    from aimport.workbooks.configexport import export_configuration

    settings = settings_from(args)
    need_store(settings)
    if args.output.suffix.lower() != ".xlsx":
        raise CommandError("the export is an Excel workbook: give -o a .xlsx name", 2)
    _parent_exists(args.output)
    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    try:
        counts = export_configuration(settings.store_address, args.output, items)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    for sheet, n in counts.items():
        print(f"{sheet}: {n} row(s)")
    print(f"written: {args.output}")
    return 0
