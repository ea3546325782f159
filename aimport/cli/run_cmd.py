"""``aimport run``: start the service."""

from __future__ import annotations

import argparse
from typing import Any

import anyio

from aimport import servicelog
from aimport.cli.common import SETTING_FLAGS, CommandError, add_settings, settings_from


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run", help="the service: watch, import, supervise campaigns",
        description="Run the service: create the folders, watch them, import dropped files, supervise "
        "campaigns and export completed ones. Stops on SIGTERM/SIGINT (exit 0); SIGHUP reloads "
        "max_concurrent from the --config file.",
    )
    add_settings(p, list(SETTING_FLAGS))
    g = p.add_argument_group("switches")
    g.add_argument("--poll", dest="poll", action="store_const", const=True, default=None,
                   help="poll the folders instead of OS events (network shares) (AIMPORT_POLL)")
    g.add_argument("--enabled", dest="enabled", action="store_const", const=True, default=None,
                   help="automatic import on (default) (AIMPORT_ENABLED)")
    g.add_argument("--disabled", dest="enabled", action="store_const", const=False,
                   help="automatic import off: nothing is watched; supervisor and health checks still run")
    g.add_argument("--demo-dialer", dest="demo_dialer", action="store_const", const=True, default=None,
                   help="SIMULATION ONLY: record random call results for Active campaigns (AIMPORT_DEMO_DIALER)")
    g.add_argument("--no-stage-helper", dest="stage_helper", action="store_const", const=False, default=None,
                   help="stage every sheet in its import's own process: less memory, slower large imports "
                   "(AIMPORT_STAGE_HELPER=false)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from aimport.service.app import StartupError, run_service

    settings = settings_from(args)
    servicelog.setup(settings.log_format)
    try:
        return anyio.run(run_service, settings)
    except StartupError as exc:
        raise CommandError(str(exc)) from None
