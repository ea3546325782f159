"""Shared CLI pieces: settings flags, the one-line user error (and the one "state not found" error), output."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aimport import staterecord
from aimport.settingdocs import SETTING_DOCS
from aimport.settings import Settings, from_sources, read_toml, setting_names

__all__ = ["LOCATION", "POINT_AT_STATE", "SETTING_FLAGS", "CommandError", "add_settings", "command", "emit", "flag_help",
           "need_root", "need_store", "settings_from", "state_not_found", "table"]

# argparse keywords per flag; the help text comes from aimport.settingdocs.SETTING_DOCS (one place for meanings)
FLAG_KW: dict[str, dict[str, Any]] = {
    "root": {"type": Path}, "server": {}, "unit": {}, "state_dir": {"type": Path}, "max_concurrent": {"type": int},
    "settle_ms": {"type": int}, "poll_ms": {"type": int}, "rescan_s": {"type": float}, "logon_user": {},
    "campaign_template": {}, "http": {}, "log_format": {"choices": ["text", "json"]}, "grace_s": {"type": float},
    "max_pending": {"type": int}, "max_unzipped_mb": {"type": int}, "audit_retention_days": {"type": int}, "revert_days": {"type": int},
    "lag_warn_ms": {"type": int}, "supervise_s": {"type": float}, "demo_rate": {"type": float},
    "date_order": {"choices": ["auto", "DMY", "MDY", "YMD"]}, "text_fallback_encoding": {},
    "phone_region": {}, "hidden_rows": {"choices": ["import", "skip", "reject"]},
    "office_hours": {}, "time_zone": {}, "office_max_concurrent": {"type": int}, "large_file_rows": {"type": int},
    "large_file_mb": {"type": int}, "store": {}, "store_turn_timeout": {"type": float},
    "store_idle_timeout": {"type": float}, "store_lock_timeout": {"type": float},
    "notify_url": {"metavar": "URL"}, "notify_format": {"choices": ["json", "slack", "teams"]},
    "notify_held_after_min": {"type": int}, "notify_timeout_s": {"type": float},
}


def flag_help(name: str) -> str:
    """``meaning (AIMPORT_NAME; default D)`` from the settings declaration."""
    doc = SETTING_DOCS[name]
    default = doc.default if doc.default is not None else getattr(Settings(), name)
    return f"{doc.meaning} (AIMPORT_{name.upper()}; default {default})"


SETTING_FLAGS: dict[str, tuple[str, dict[str, Any]]] = {name: (flag_help(name), kw) for name, kw in FLAG_KW.items()}
LOCATION = ("root", "server", "unit", "state_dir", "store")
# the three ways to point a command at a service's state directory (the end of every "state not found" error)
POINT_AT_STATE = ("point at the service's state directory with --state-dir DIR or AIMPORT_STATE_DIR=DIR, or run "
                  "aimport from the folder that holds it as state/")


class CommandError(Exception):
    """A one-line error for the user (exit code 1 unless ``code`` says otherwise)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def state_not_found(state_dir: Path, missing: str, otherwise: str = "") -> CommandError:
    """The one error of every command that does not find what a service keeps in its state directory: what is
    missing, the directory tried (absolute: a default ``./state`` is relative to where the command ran) and
    the three ways to point at another; ``otherwise`` adds what does without the state (e.g. ``--root``)."""
    tried = state_dir.absolute()
    gone = "" if tried.is_dir() else " (it does not exist)"
    return CommandError(f"{missing} in the state directory {tried}{gone}: {POINT_AT_STATE}{otherwise}")


def need_root(settings: Settings) -> Path:
    """The import root, or the state-not-found error: without --root it comes from ``STATE/service.json``."""
    if settings.root is None:
        raise state_not_found(settings.state_dir, "no service.json (written by `aimport run`) with the root, "
                              "server and unit", "; or give --root, --server and --unit")
    return settings.root


def need_store(settings: Settings) -> Path | str:
    """The system store's address, or the state-not-found error when it is the state directory's SQLite file
    and that is not there (a PostgreSQL store is given with --store; connecting tells whether it is there)."""
    from aimport.store.db import store_exists

    address = settings.store_address
    if not store_exists(address):
        raise state_not_found(settings.state_dir, "no system store at system.sqlite", " (a PostgreSQL store: --store)")
    return address


def command(sub: Any, name: str, help: str, description: str, handler: Callable[[argparse.Namespace], int],
            *arguments: tuple[str, str]) -> argparse.ArgumentParser:
    """Register one subcommand: its one-line help, its description, positional ``(name, help)`` arguments, the
    location settings (:func:`add_settings`) and its handler; returns the parser for further options."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    for arg, arg_help in arguments:
        p.add_argument(arg, help=arg_help)
    add_settings(p)
    p.set_defaults(handler=handler)
    return p


def add_settings(p: argparse.ArgumentParser, names: Sequence[str] = LOCATION) -> None:
    g = p.add_argument_group("settings")
    g.add_argument("--config", type=Path, help="TOML settings file (AIMPORT_CONFIG)")
    for name in names:
        help_text, kw = SETTING_FLAGS[name]
        g.add_argument("--" + name.replace("_", "-"), dest=name, default=None, help=help_text, **kw)


def settings_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Flags > AIMPORT_* variables > TOML file > what ``aimport run`` recorded in the state directory.

    The recorded root, server and unit (STATE/service.json) fill in only what none of the others gives, so
    ``aimport status`` works from the repository root after ``scripts/run``, and anywhere with --state-dir.
    ``aimport run`` itself never takes them from a record.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in vars(args).items() if v is not None}
    settings = from_sources(flags, env=env, config=getattr(args, "config", None))
    if getattr(args, "command", None) == "run":
        return settings
    given = set(flags) | {n for n in setting_names() if env.get("AIMPORT_" + n.upper())}
    if settings.config is not None:
        given |= set(read_toml(settings.config))
    if all(n in given for n in staterecord.RECORDED):
        return settings  # nothing to take from a record
    try:
        record = staterecord.read(settings.state_dir)
    except staterecord.RecordError as exc:
        raise CommandError(f"{exc}. `aimport run` writes it (a running service again within a minute, a stopped "
                           "one at its next start); meanwhile give --root, --server, --unit and --store") from None
    if record is None:
        return settings
    fill = {n: getattr(record, n) for n in staterecord.RECORDED if n not in given}
    if "root" in fill:
        fill["root"] = Path(fill["root"])
    return replace(settings, **fill)


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
