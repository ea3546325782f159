"""``aimport release FILE``: start one file held for the end of office hours now."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from aimport.cli.common import CommandError, command, settings_from, state_not_found
from aimport.layout import Layout, display_name
from aimport.service.officehours.heldlist import (
    RELEASE_CHECK_S,
    HeldFile,
    read_held,
    release_request_path,
    request_release,
)
from aimport.service.statedir import running_service


def register(sub: Any) -> None:
    command(
        sub, "release", "import a large file held for the end of office hours now",
        "A large file that arrives during office hours (office_hours, large_file_rows, large_file_mb) "
        "waits in its drop folder until they end. `aimport release FILE` asks the service to import it now: it "
        "writes a request to STATE/releases/, which a running service reads at its next folder check (within 2 "
        "seconds) and a stopped one when it starts; either writes a hold_released event then. The file is then "
        "claimed and imported like any other, under the limit in force. FILE is the held file's path, or its name "
        "when one held file has it; `aimport status` lists the held files. Exit code 1 when FILE is not held.",
        do_release, ("file", "the held file: its path, or its name"))


def do_release(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not settings.state_dir.is_dir():
        raise state_not_found(settings.state_dir, "no held files (held.json)")
    held = read_held(settings.state_dir).files
    target = _find(held, args.file)
    if target is None:
        raise CommandError(_not_held(args.file, settings.layout if settings.root is not None else None))
    request = release_request_path(settings.state_dir, target.path)
    again = request.exists()
    try:
        request_release(settings.state_dir, target, _user())
    except OSError as exc:
        raise CommandError(f"cannot write the release request {request}: {exc.strerror or exc} "
                           "(run as the service's user)") from None
    rows = f"about {target.estimated_rows} rows, " if target.estimated_rows is not None else ""
    name = display_name(target.path.name)
    print(f"released {target.import_type}/{name} ({rows}{target.size_bytes / (1 << 20):.1f} MB), held since "
          f"{target.held_at.astimezone().isoformat(timespec='minutes')}" + (" (asked again)" if again else ""))
    print(_when(settings.state_dir) + "; `aimport audit tail` shows hold_released, then claimed and finished")
    return 0


def _when(state_dir: Path) -> str:
    """When the request takes effect: whether a service runs on ``state_dir`` now (it holds its lock)."""
    pid = running_service(state_dir)
    if pid is None:
        return ("the service is not running: it claims and imports the file when it starts (before holding any "
                "file again), under the limit in force then")
    who = f"the service (pid {pid})" if pid else "the running service"
    return f"{who} claims and imports it at its next folder check (within {RELEASE_CHECK_S:g} seconds), under the limit in force now"


def _find(held: list[HeldFile], given: str) -> HeldFile | None:
    path = Path(given)
    if path.exists():
        for f in held:
            try:
                if os.path.samefile(f.path, path):
                    return f
            except OSError:
                continue
        return None
    if len(path.parts) != 1:
        return None
    named = [f for f in held if f.path.name == given]
    if len(named) > 1:
        raise CommandError(f"{len(named)} held files are named {display_name(given)} "
                           f"({', '.join(f.import_type for f in named)}): give its path")
    return named[0] if named else None


def _not_held(given: str, layout: Layout | None) -> str:
    path = Path(given)
    if not path.exists():
        return f"no held file {display_name(given)} (`aimport status` lists the held files)"
    if layout is not None and layout.type_of(path.absolute()) is not None:
        return (f"{display_name(path.name)} is not held: the service imports it as usual (it is not above "
                "large_file_rows or large_file_mb, it did not arrive in office hours, or it is being imported)")
    return f"{display_name(path.name)} is not in a drop folder: nothing to release (`aimport import FILE` imports it)"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
