"""The service's record in its state directory: which root, server, unit and store it runs on.

``aimport run`` writes ``STATE/service.json`` at start (atomically); the CLI commands that read a
service's state (status, audit, campaign, export, ...) take root, server and unit from it when no
flag, variable or TOML key gives them, so ``aimport status --state-dir STATE`` works on its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from aimport.atomicfile import write_atomic

FILE_NAME = "service.json"
RECORDED = ("root", "server", "unit", "store")


@dataclass(frozen=True)
class ServiceRecord:
    root: str
    server: str
    unit: str
    store: str = "sqlite"  # the store setting, with any password in a URL left out (redacted)


def write(state_dir: Path, record: ServiceRecord) -> None:
    write_atomic(state_dir / FILE_NAME, json.dumps(asdict(record), indent=2) + "\n")


def read(state_dir: Path) -> ServiceRecord | None:
    """The record, or None when there is none (or it cannot be read: then flags are needed)."""
    try:
        data = json.loads((state_dir / FILE_NAME).read_text(encoding="utf-8"))
        return ServiceRecord(str(data["root"]), str(data["server"]), str(data["unit"]), str(data.get("store", "sqlite")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
