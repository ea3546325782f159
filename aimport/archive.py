"""Archiving: move an imported file to History/ and write its side files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from aimport import faults
from aimport.layout import history_candidates, history_stamp, move_no_clobber, write_atomic

RESULT_ORDER = ("status", "type", "file", "rows", "created", "updated", "deleted", "unchanged", "rejected",
                "started", "finished", "duration_ms", "sha256", "error_code", "import_id", "actor")


def free_history_name(history_dir: Path, file_name: str, started: dt.datetime) -> str:
    """The first History name (and its .log) not taken yet."""
    for name in history_candidates(history_stamp(started), file_name):
        if not (history_dir / name).exists() and not (history_dir / f"{name}.log").exists():
            return name
    raise FileExistsError(f"no free history name for {file_name}")


def move_to_history(src: Path, history_dir: Path, preferred: str, started: dt.datetime) -> Path:
    """Move under ``preferred`` or, if that got taken meanwhile, the next free name."""
    names = history_candidates(history_stamp(started), src.name)
    start = names.index(preferred) if preferred in names else 0
    return move_no_clobber(src, history_dir, names[start:])


def result_text(fields: dict[str, Any], sheets: list[dict[str, Any]]) -> str:
    lines = [f"{k}: {'' if fields.get(k) is None else fields[k]}" for k in RESULT_ORDER if k in fields]
    lines += [f"{k}: {v}" for k, v in fields.items() if k not in RESULT_ORDER]
    for s in sheets:
        for k in ("rows", "created", "updated", "deleted", "unchanged", "rejected"):
            lines.append(f"sheet.{s['sheet']}.{k}: {s.get(k, 0)}")
    return "\n".join(lines) + "\n"


def write_side_files(dest: Path, log_text: str, fields: dict[str, Any], sheets: list[dict[str, Any]]) -> None:
    """``.log``, (unless succeeded) ``.err``, then ``.result`` last, each atomically.

    The ``.result`` is the completion marker: when it exists, the other side files are complete.
    """
    write_atomic(dest.with_name(dest.name + ".log"), log_text)
    faults.point("mid_side_file")
    err = dest.with_name(dest.name + ".err")
    if fields.get("status") != "succeeded":
        write_atomic(err, f"{fields.get('error_code') or 'UNKNOWN'}\n")
    else:
        err.unlink(missing_ok=True)
    write_atomic(dest.with_name(dest.name + ".result"), result_text(fields, sheets))


def local_iso(at: dt.datetime) -> str:
    return at.astimezone().isoformat(timespec="milliseconds")
