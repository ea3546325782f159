"""State files and side files are never group- or world-writable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.helpers import drop, wait_archived, write_text
from tests.serviceprocess import ServiceProcess


def test_modes(service: ServiceProcess, tmp_path: Path) -> None:
    old = os.umask(0o000)  # even a careless umask in the parent must not leak into what aimport writes
    try:
        service.start()
    finally:
        os.umask(old)
    drop(write_text(tmp_path / "m.txt", [["Name", "Id"], ["a", 99]]), service.layout.type_dir("Skills"))
    [hist] = wait_archived(service.layout, "Skills", "m.txt")
    service.stop()
    files = [service.state / "system.sqlite", service.state / "audit.sqlite"]
    files += [hist.with_name(hist.name + ext) for ext in (".log", ".result", ".err")]
    for p in files:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert not mode & 0o022, f"{p.name} is {oct(mode)}"
    for d in (service.state, service.layout.history_dir("Skills")):
        assert not stat.S_IMODE(os.stat(d).st_mode) & 0o002
