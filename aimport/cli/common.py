"""Shared CLI pieces: settings flags and output helpers."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from aimport.settings import Settings, from_sources

SETTING_FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "root": ("import root folder (AIMPORT_ROOT)", {"type": Path}),
    "server": ("server name, first part of SERVER_UNIT (AIMPORT_SERVER; default: host name)", {}),
    "unit": ("Batch Job Server virtual unit (AIMPORT_UNIT; default VUBJS)", {}),
    "state_dir": ("folder for system.sqlite and audit.sqlite, on local disk (AIMPORT_STATE_DIR; default ./state)", {"type": Path}),
    "max_concurrent": ("imports running at once, all types together (AIMPORT_MAX_CONCURRENT; default 2)", {"type": int}),
    "settle_ms": ("size and mtime must be stable this long before a file is taken (AIMPORT_SETTLE_MS; default 1000)", {"type": int}),
    "poll_ms": ("polling interval with --poll (AIMPORT_POLL_MS; default 500)", {"type": int}),
    "rescan_s": ("full rescan interval in seconds (AIMPORT_RESCAN_S; default 60)", {"type": float}),
    "logon_user": ("user automatic import acts as; needs ImportExport and ManageCampaigns (AIMPORT_LOGON_USER)", {}),
    "campaign_template": ("campaign whose settings new campaigns copy (AIMPORT_CAMPAIGN_TEMPLATE; default Template)", {}),
    "http": ("serve /healthz /readyz /metrics on HOST:PORT (AIMPORT_HTTP; default off)", {}),
    "log_format": ("text or json (AIMPORT_LOG_FORMAT; default text)", {"choices": ["text", "json"]}),
    "grace_s": ("seconds running imports get to finish on SIGTERM (AIMPORT_GRACE_S; default 30)", {"type": float}),
    "max_pending": ("file paths held in memory; the folder is the queue (AIMPORT_MAX_PENDING; default 1000)", {"type": int}),
    "max_unzipped_mb": ("refuse workbooks that unpack to more than this (AIMPORT_MAX_UNZIPPED_MB; default 1024)", {"type": int}),
    "audit_retention_days": ("prune finished audit rows older than this (AIMPORT_AUDIT_RETENTION_DAYS; default 365)", {"type": int}),
    "lag_warn_ms": ("log a warning when the event-loop heartbeat is this late (AIMPORT_LAG_WARN_MS; default 100)", {"type": int}),
    "supervise_s": ("campaign supervisor interval in seconds (AIMPORT_SUPERVISE_S; default 5)", {"type": float}),
    "demo_rate": ("simulated calls per second with --demo-dialer (AIMPORT_DEMO_RATE; default 5)", {"type": float}),
}
LOCATION = ("root", "server", "unit", "state_dir")


def add_settings(p: argparse.ArgumentParser, names: Sequence[str] = LOCATION) -> None:
    g = p.add_argument_group("settings")
    g.add_argument("--config", type=Path, help="TOML settings file (AIMPORT_CONFIG)")
    for name in names:
        help_text, kw = SETTING_FLAGS[name]
        g.add_argument("--" + name.replace("_", "-"), dest=name, default=None, help=help_text, **kw)


def settings_from(args: argparse.Namespace) -> Settings:
    flags = {k: v for k, v in vars(args).items() if v is not None}
    return from_sources(flags, config=getattr(args, "config", None))


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str = "table", out: Any = None) -> None:
    """Print rows as an aligned table, JSON lines array, or CSV."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, indent=2, default=str, ensure_ascii=False)
        out.write("\n")
        return
    if fmt == "csv":
        w = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        return
    table(rows, columns, out)


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: Any = None) -> None:
    out = out or sys.stdout
    rows = list(rows)
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
