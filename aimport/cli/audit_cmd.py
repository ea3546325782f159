"""``aimport audit`` and ``aimport status``: read the audit trail, folders and store."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from aimport.cli.common import CommandError, add_settings, emit, need_root, settings_from, state_not_found, table
from aimport.names import display_name
from aimport.store import auditqueries

LIST_COLUMNS = ["id", "import_type", "file_name", "status", "error_code", "rows", "created", "updated",
                "deleted", "rejected", "started_at", "duration_ms", "history_name", "retry_of"]
EVENT_COLUMNS = ["id", "at", "import_id", "kind", "detail"]


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="list / show / tail the audit trail (table, --json or --csv)",
                       description="Read STATE/audit.sqlite. Without an action: recent imports.")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "tail"],
                   help="list imports (default), show ID with its events, tail events")
    p.add_argument("id", nargs="?", type=int, help="import id for show")
    p.add_argument("--type", dest="import_type", help="only this import type")
    p.add_argument("--status", choices=["queued", "in_process", "succeeded", "partial", "failed", "cancelled"])
    p.add_argument("--failed", action="store_true", help="only failed and partial imports")
    p.add_argument("--file", dest="file_name", help="file name contains this text")
    p.add_argument("--since", help="ISO date/time (UTC), e.g. 2026-11-25 or 2026-11-25T08:00")
    p.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    p.add_argument("--follow", "-f", action="store_true",
                   help="keep printing new rows as they arrive (with --json: one object per line)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="fmt", action="store_const", const="json")
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv")
    add_settings(p, ["state_dir"])
    p.set_defaults(handler=do_audit, fmt="table")
    s = sub.add_parser("status", help="what is queued, in process, and the campaign states",
                       description="Files waiting in the drop folders and in InProcess/, item counts in the "
                       "system store, recent imports and campaign states.")
    s.add_argument("--json", action="store_true")
    add_settings(s)
    s.set_defaults(handler=do_status)


def do_audit(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = settings.audit_db
    if not path.exists():
        raise state_not_found(settings.state_dir, "no audit trail (audit.sqlite)")
    try:
        if args.action == "show":
            if args.id is None:
                raise CommandError("audit show needs an import id", 2)
            row, events = auditqueries.get_import(path, args.id)
            if row is None:
                raise CommandError(f"no import with id {args.id}")
            if args.fmt == "json":
                json.dump({"import": row, "events": events}, sys.stdout, indent=2, default=str)
                print()
            else:
                for k, v in shown([row])[0].items():
                    print(f"{k:>13}: {'' if v is None else v}")
                print()
                table(shown(events), EVENT_COLUMNS)
            return 0
        if args.action == "tail":
            events = auditqueries.list_events(path, limit=1_000_000)[-args.limit:]
            _first(events, EVENT_COLUMNS, args)
            last = events[-1]["id"] if events else 0
            while args.follow:
                time.sleep(0.5)
                new = auditqueries.list_events(path, after_id=last)
                if new:
                    _emit_more(new, EVENT_COLUMNS, args.fmt)
                    last = new[-1]["id"]
            return 0
        filters = dict(import_type=args.import_type, status=args.status, since=args.since,
                       file_name=args.file_name, failed=args.failed)
        rows = auditqueries.list_imports(path, limit=args.limit, **filters)
        _first(rows, LIST_COLUMNS, args)
        last = max((r["id"] for r in rows), default=0)
        seen_done = {r["id"] for r in rows if r["status"] not in ("queued", "in_process")}
        while args.follow:
            time.sleep(0.5)
            fresh = [r for r in auditqueries.list_imports(path, limit=1000, **filters)
                     if r["status"] not in ("queued", "in_process") and r["id"] not in seen_done]
            if fresh:
                _emit_more(fresh, LIST_COLUMNS, args.fmt)
                seen_done.update(r["id"] for r in fresh)
                last = max(last, *(r["id"] for r in fresh))
        return 0
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None


def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` as a table or CSV shows them: every text on one line of printable text (a file name with a line
    break or an escape sequence cannot forge a row or drive the terminal). JSON keeps the exact text, with every
    character outside ASCII as a ``\\u`` escape (nothing raw reaches the terminal either)."""
    return [{k: display_name(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def _first(rows: list[dict[str, Any]], columns: list[str], args: argparse.Namespace) -> None:
    """The first batch; with --follow --json every row is one JSON line, so the stream stays parseable."""
    if args.fmt == "json":
        if args.follow:
            _emit_more(rows, columns, "json")
        else:
            json.dump(rows, sys.stdout, indent=2, default=str)
            print()
    else:
        emit(shown(rows), columns, args.fmt)
    sys.stdout.flush()


def _emit_more(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "json":
        for r in rows:
            print(json.dumps(r, default=str))
    elif fmt == "csv":
        import csv

        csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore").writerows(shown(rows))
    else:
        for r in shown(rows):
            print("  ".join("" if r.get(c) is None else str(r.get(c)) for c in columns))
    sys.stdout.flush()


def do_status(args: argparse.Namespace) -> int:
    from aimport.cli.statusview import collect

    settings = settings_from(args)
    need_root(settings)
    report = collect(settings)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
        return 0
    print(f"root: {display_name(report['root'])}")
    print(f"store: {display_name(report['store'])}")
    print("\nfolders (held: waiting for the end of office hours, not queued):")
    table(report["folders"], ["type", "queued", "oldest_queued", "held", "in_process"])
    print("\nsystem store:")
    table([{"item": k, "count": v} for k, v in report["items"].items()], ["item", "count"])
    if "units" in report:  # a shared store: every unit's service, and who holds which write turn since when
        print("\nunits on the store (heartbeat every 5 s):")
        table([{**u, "seen_s_ago": u["seen_s_ago"]} for u in report["units"]],
              ["unit", "host", "pid", "version", "in_flight", "seen_s_ago"])
        print("\nwrite turns:" + ("" if report["turns"] else " none held"))
        table([{**t, "state": "waiting" if t["waiting_s"] is not None else "held" if t["exclusive"] else "shared",
                "for_s": t["waiting_s"] if t["waiting_s"] is not None else t["held_s"]} for t in report["turns"]],
              ["table", "state", "holder", "for_s"])
    if report.get("campaigns"):
        print("\ncampaigns:")
        table(shown(report["campaigns"]), ["name", "status", "customers", "handled", "exported"])
    office = report.get("office_hours")
    if office:
        print(f"\noffice hours: {office['spec']} ({office['time_zone']}); now {office['now'].replace('_', ' ')}"
              + (f" until {office['next_change']}" if office["next_change"] else ""))
    if report.get("held"):
        print("\nheld until office hours end (aimport release FILE starts one now):")
        table(shown([{**f, "starts_at": f["starts_at"] or "on release"} for f in report["held"]]),
              ["type", "file", "size_bytes", "estimated_rows", "held_at", "starts_at"])
    if report.get("recent"):
        print("\nrecent imports:")
        table(shown(report["recent"]), ["id", "import_type", "file_name", "status", "error_code", "finished_at"])
    return 0
