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
from aimport.store.address import without_password

__all__ = ["FILE_NAME", "RECORDED", "RecordError", "ServiceRecord", "read", "write"]

FILE_NAME = "service.json"
RECORDED = ("root", "server", "unit", "store")


@dataclass(frozen=True)
class ServiceRecord:
    root: str
    server: str
    unit: str
    store: str = "sqlite"  # the store setting, with any password in a URL left out (redacted)


def write(state_dir: Path, record: ServiceRecord) -> None:
    """Write the record; the store setting without any password in it (every form libpq reads)."""
    data = {**asdict(record), "store": without_password(record.store)}
    write_atomic(state_dir / FILE_NAME, json.dumps(data, indent=2) + "\n")


class RecordError(ValueError):
    """``service.json`` is there but cannot be used; the message names the file and what is wrong with it."""


def read(state_dir: Path) -> ServiceRecord | None:
    """The record, or None when there is none; :class:`RecordError` when it is damaged (not JSON, wrong types)."""
    path = state_dir / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordError(f"{path} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise RecordError(f"{path} is damaged: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path} is damaged: it holds a JSON {type(data).__name__}, not an object with "
                          f"{', '.join(RECORDED)}")
    wrong = [f"{key} is {'missing' if key not in data else json.dumps(data[key])}" for key in RECORDED[:3]
             if not isinstance(data.get(key), str) or not data[key]]
    if "store" in data and not isinstance(data["store"], str):
        wrong.append(f"store is {json.dumps(data['store'])}")
    if wrong:
        raise RecordError(f"{path} is damaged: {'; '.join(wrong)} (each must be a text)")
    return ServiceRecord(data["root"], data["server"], data["unit"], data.get("store", "sqlite"))
