"""``aimport campaign``: list, show, record a call result, close, export."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimport.cli.common import CommandError, add_settings, emit, need_store, settings_from, table

if TYPE_CHECKING:
    from aimport.store.db import Db

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("campaign", help="list, show, record a call result, close, export",
                       description="Outbound campaigns in the system store.")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = csub.add_parser("list", help="every campaign with its status and progress")
    ls.add_argument("--json", action="store_true")
    sh = csub.add_parser("show", help="one campaign: settings, counts, customers")
    sh.add_argument("name")
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--customers", type=int, default=20, help="customers to list (default 20)")
    rec = csub.add_parser("record", help="record a call result for a customer",
                          description="Record one call attempt and apply the call-result table: handled results "
                          "finish the customer, redial results count towards the redial limit ('Max. Calls'), "
                          "Fax/Modem/Unknown/Wrong number/Bad address move to the next phone number.")
    rec.add_argument("name", metavar="CAMPAIGN")
    rec.add_argument("external_id", metavar="EXTERNAL_ID")
    rec.add_argument("--result", required=True, help='call result, e.g. "Successful", "No answer", "Busy"')
    rec.add_argument("--classification")
    rec.add_argument("--agent")
    rec.add_argument("--answer", action="append", default=[], metavar="QUESTION=ANSWER",
                     help="script answer (repeatable)")
    cl = csub.add_parser("close", help="end a campaign early (it is then exported)")
    cl.add_argument("name")
    ex = csub.add_parser("export", help="write a campaign's export now (does not count as the automatic export)")
    ex.add_argument("name")
    ex.add_argument("-o", "--output", type=Path, required=True,
                    help="the .xlsx to write, or a folder (the file is then named yyyyMMdd_HHmmss_<campaign>.xlsx)")
    for sp in (ls, sh, rec, cl, ex):
        add_settings(sp, ["state_dir", "store", "date_order"] if sp is rec else ["state_dir", "store"])
        sp.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aimport.campaigns import model, results
    from aimport.campaigns.exportfile import safe_name, write_export
    from aimport.campaigns.model import CampaignError
    from aimport.history import history_stamp
    from aimport.store.schema import open_store

    settings = settings_from(args)
    address = need_store(settings)
    db = open_store(address)
    try:
        if args.action == "list":
            emit(model.summaries(db), ["name", "status", "customers", "handled", "calls", "exported"],
                 "json" if args.json else "table")
        elif args.action == "show":
            _show(db, args)
        elif args.action == "record":
            answers = {}
            for a in args.answer:
                q, sep, v = a.partition("=")
                if not sep:
                    raise CommandError(f"--answer takes QUESTION=ANSWER, not {a!r}", 2)
                answers[q] = v
            r = results.record(db, args.name, args.external_id, args.result, classification=args.classification,
                               agent=args.agent, answers=answers, date_order=settings.date_order)
            print(f"recorded: {r.external_id} call {r.number_of_calls}, customer "
                  f"{r.customer_result or 'to be called again'}; campaign {r.campaign_status}")
        elif args.action == "close":
            c = results.close(db, args.name)
            print(f"campaign {c.name} closed ({c.status}); the supervisor exports it")
        elif args.action == "export":
            c = model.require(db, args.name)
            out = args.output
            if out.is_dir():
                out = out / f"{history_stamp(dt.datetime.now())}_{safe_name(c.name)}.xlsx"
            elif out.suffix.lower() != ".xlsx":
                raise CommandError(f"the export is an Excel workbook: name it .xlsx, not {out.name!r}", 2)
            if not out.parent.is_dir():
                raise CommandError(f"no folder {out.parent} to write the export into")
            try:
                n = write_export(db, c, out)
            except OSError as exc:
                raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
            print(f"written: {out} ({n} customers)")
    except CampaignError as exc:
        raise CommandError(str(exc)) from None
    finally:
        db.close()
    return 0


def _show(db: Db, args: argparse.Namespace) -> None:
    from dataclasses import asdict, fields

    from aimport.campaigns import model
    from aimport.store import campaigns as stored
    from aimport.store import customers as stored_customers

    c = model.require(db, args.name)
    cols = [f.name for f in fields(stored_customers.CustomerLine)]
    customers = [asdict(line) for line in stored_customers.customer_lines(db, c.id, args.customers)]
    info = {**asdict(c), **asdict(stored.counts(db, c.id))}
    if args.json:
        json.dump({"campaign": info, "customers": customers}, sys.stdout, indent=2, default=str)
        print()
        return
    for k, v in info.items():
        if k != "id":
            print(f"{k:>18}: {'' if v is None else v}")
    print()
    table(customers, cols)
