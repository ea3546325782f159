"""The ``aimport`` command line: a thin shell over the modules that do the work."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from aimport import __version__
from aimport.cli.common import CommandError

__all__ = ["CommandError", "build_parser", "main"]

EPILOG = "Settings: flags override AIMPORT_* environment variables, which override --config FILE (TOML)."


def build_parser() -> argparse.ArgumentParser:
    from aimport.cli import (
        audit_cmd,
        campaign_cmd,
        cancel_cmd,
        changes_cmd,
        config_cmd,
        oneshot_cmd,
        release_cmd,
        retry_cmd,
        revert_cmd,
        run_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="aimport",
        description="Automatic file-drop import for contact-center administration: drop .xlsx or "
        "tab-delimited files into ROOT/SERVER_UNIT/Automatic/<Type>/ and aimport imports and archives them.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"aimport {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (run_cmd, oneshot_cmd, config_cmd, audit_cmd, release_cmd, retry_cmd, cancel_cmd, campaign_cmd, changes_cmd,
                   revert_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - one line unless --debug
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]  # type: ignore[assignment]
        if getattr(args, "debug", False):
            traceback.print_exc()
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"aimport {args.command}: error: {message}", file=sys.stderr)
        return getattr(exc, "code", 1) if isinstance(exc, CommandError) else 1
