"""``aimport import`` and ``aimport check``: one file, in the foreground."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from aimport.cli.common import CommandError, add_settings, need_root, settings_from, table
from aimport.history import result_field
from aimport.importing.outcome import ImportOutcome, ImportRequest, counts
from aimport.importing.run import run_import
from aimport.itemtypes.catalog import CATALOG
from aimport.layout import IMPORT_TYPES, Layout, display_name, is_utf8_name

__all__ = ["Bar", "check_location", "do_check", "do_import", "register", "resolve_type"]

TYPE_HELP = "import type: " + ", ".join(IMPORT_TYPES) + " (default: the folder the file is in)"


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="import one file now, in the foreground, with a progress bar",
                       description="Import FILE once with the same engine as the service and archive it "
                       "to History/ with .log/.result/.err. A file inside its type's drop folder is moved; "
                       "any other file is copied (the original stays).")
    p.add_argument("file", type=Path)
    p.add_argument("--type", dest="import_type", help=TYPE_HELP)
    p.add_argument("--logon-user", dest="logon_user", help="actor recorded in the audit trail")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings(p)
    p.set_defaults(handler=do_import)
    c = sub.add_parser("check", help="validate a file without importing; prints what would change",
                       description="Validate FILE against the system store and print what would be created, "
                       "updated, deleted and rejected. Nothing is changed. Exit code 0: would succeed, "
                       "3: some rows would be rejected, 1: the file would fail.")
    c.add_argument("file", type=Path)
    c.add_argument("--type", dest="import_type", help=TYPE_HELP)
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.add_argument("--diff", action="store_true", help="also list every change the file would make, per item "
                   "(created, deleted, Field: old -> new), as `aimport changes` lists it after the import")
    add_settings(c, ["state_dir", "store"])
    c.set_defaults(handler=do_check)


def resolve_type(path: Path, given: str | None) -> str:
    if given:
        for t in IMPORT_TYPES:
            if t.lower() == given.lower():
                return t
        try:
            t_obj = CATALOG.resolve_name(given)
            if t_obj.folder:
                return t_obj.folder
        except KeyError:
            pass
        raise CommandError(f"unknown import type {given!r}; choose one of {', '.join(IMPORT_TYPES)}", 2)
    parent = path.resolve().parent.name
    if parent in IMPORT_TYPES:
        return parent
    raise CommandError(f"cannot tell the import type of {path.name}: pass --type ({', '.join(IMPORT_TYPES)})", 2)


def check_location(layout: Layout, file: Path, t: str) -> None:
    """Refuse a file the service owns or would import too: in another type's drop folder, or in an InProcess/."""
    if not is_utf8_name(file.name):
        raise CommandError(f"the file name {display_name(file.name)} is not valid UTF-8: rename the file first", 2)
    parent = file.absolute().parent.resolve()
    for u in IMPORT_TYPES:
        if parent == layout.in_process_dir(u).resolve():
            raise CommandError(f"{display_name(file.name)} is in {u}/InProcess/, which belongs to the service; "
                               "it is imported (or recovered) there", 2)
        if u != t and parent == layout.type_dir(u).resolve():
            raise CommandError(f"{display_name(file.name)} is in the {u} drop folder, so the service imports it as {u}; "
                               f"importing it as {t} as well would import it twice: move it out of {u}/ first "
                               f"(or drop it into {t}/)", 2)


class Bar:
    """A one-line progress indicator on stderr: phase, rows, rate."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, phase: str, rows: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        rate = rows / max(now - self.t0, 1e-6)
        spin = "|/-\\"[int(now * 8) % 4]
        sys.stderr.write(f"\r{spin} {phase}: {rows:,} rows ({rate:,.0f} rows/s)\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def do_check(args: argparse.Namespace) -> int:
    import json

    settings = settings_from(args)
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    t = resolve_type(args.file, args.import_type)
    req = ImportRequest(path=args.file, import_type=t, import_key=f"check-{time.time_ns()}",
                        store_address=settings.store_address, work_dir=settings.work_dir, actor=settings.logon_user or "check", dry_run=True,
                        max_unzipped_bytes=settings.max_unzipped_mb << 20, campaign_template=settings.campaign_template,
                        date_order=settings.date_order, text_fallback_encoding=settings.text_fallback_encoding,
                        phone_region=settings.phone_region, hidden_rows=settings.hidden_rows, diff=args.diff)
    outcome = run_import(req)
    if args.json:
        json.dump({"status": outcome.status, "error_code": outcome.error_code, "totals": counts(outcome.totals),
                   "sheets": [s.as_dict() for s in outcome.sheets], "log": outcome.log_text.splitlines(),
                   **({"changes": [c.as_dict() for c in outcome.changes]} if args.diff else {})}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(outcome.log_text)
        if args.diff:
            from aimport.cli.audit_cmd import shown
            from aimport.cli.changes_cmd import COLUMNS

            print(f"changes ({len(outcome.changes)}):")
            table(shown([c.as_dict() for c in outcome.changes]), COLUMNS)
        _summary(outcome, "would be ")
    return {"succeeded": 0, "partial": 3}.get(outcome.status, 1)


def _summary(outcome: ImportOutcome, prefix: str = "") -> None:
    if outcome.sheets:
        table([s.as_dict() for s in outcome.sheets], ["sheet", "item", "rows", "created", "updated", "deleted", "unchanged", "rejected"])
    print(f"status: {prefix}{outcome.status}" + (f" ({outcome.error_code})" if outcome.error_code else ""))


def do_import(args: argparse.Namespace) -> int:
    from aimport.service.oneshot import OneShotError, import_one  # the service's claim, run and archive

    settings = settings_from(args)
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    t = resolve_type(args.file, args.import_type)
    need_root(settings)  # the file is archived under ROOT/.../History
    check_location(settings.layout, args.file, t)
    bar = Bar(not args.quiet and sys.stderr.isatty())
    try:
        done = anyio.run(import_one, settings, args.file, t, bar)
    except OneShotError as exc:
        raise CommandError(str(exc)) from None
    finally:
        bar.done()
    _summary(done.outcome)
    print(f"archived: {done.history}")
    rejected = result_field(done.history.with_name(done.history.name + ".result"), "rejected_file")
    if rejected:
        print(f"rejected rows: {done.history.with_name(rejected)} (correct them and drop that file into the same "
              "folder)")
    return 0 if done.outcome.status == "succeeded" else (3 if done.outcome.status == "partial" else 1)
