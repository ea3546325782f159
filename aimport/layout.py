"""The folder contract: where files are dropped, processed, archived and exported."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aimport import faults

IMPORT_TYPES: tuple[str, ...] = (
    "UserGroup",
    "Directory",
    "Queues",
    "Calendar",
    "Skills",
    "Presence",
    "OutboundCampaign",
    "BlockedNumbers",
    "Scripts",
    "Configuration",
)
IN_PROCESS = "InProcess"
HISTORY = "History"
EXPORT = "Export"


@dataclass(frozen=True)
class Layout:
    """Paths under ``ROOT/SERVER_UNIT/Automatic``."""

    root: Path
    server: str
    unit: str

    @property
    def automatic(self) -> Path:
        return self.root / f"{self.server}_{self.unit}" / "Automatic"

    @property
    def export_dir(self) -> Path:
        return self.automatic / EXPORT

    def type_dir(self, import_type: str) -> Path:
        return self.automatic / import_type

    def in_process_dir(self, import_type: str) -> Path:
        return self.type_dir(import_type) / IN_PROCESS

    def history_dir(self, import_type: str) -> Path:
        return self.type_dir(import_type) / HISTORY

    def all_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for t in IMPORT_TYPES:
            dirs += [self.type_dir(t), self.in_process_dir(t), self.history_dir(t)]
        dirs.append(self.export_dir)
        return dirs

    def ensure(self) -> list[Path]:
        """Create every missing folder; return the ones that had to be created."""
        created = []
        for d in self.all_dirs():
            if not d.is_dir():
                d.mkdir(parents=True, exist_ok=True, mode=0o755)
                created.append(d)
        return created

    def type_of(self, path: Path) -> str | None:
        """The import type whose drop folder directly holds ``path``."""
        parent = path.parent
        if parent.parent == self.automatic and parent.name in IMPORT_TYPES:
            return parent.name
        return None


def history_stamp(at: datetime) -> str:
    """``yyyyMMdd_HHmmss`` in local time, 24-hour clock."""
    return at.astimezone().strftime("%Y%m%d_%H%M%S")


def history_candidates(stamp: str, file_name: str) -> "list[str]":
    """Names tried in order; the first free one wins (never overwrite)."""
    stem, dot, ext = file_name.rpartition(".")
    if not dot or not stem:
        stem, ext = file_name, ""
    else:
        ext = "." + ext
    names = [f"{stamp}_{file_name}"]
    names += [f"{stamp}_{stem} ({n}){ext}" for n in range(2, 10000)]
    return names


def move_no_clobber(src: Path, dest_dir: Path, names: "list[str]") -> Path:
    """Move ``src`` into ``dest_dir`` under the first name not taken.

    Uses a hard link (fails atomically if the name exists) and falls back to
    an existence check plus rename on file systems without hard links.
    """
    for name in names:
        dest = dest_dir / name
        for side in (dest, dest.with_name(dest.name + ".log")):
            if side.exists():
                break
        else:
            try:
                os.link(src, dest)
            except FileExistsError:
                continue
            except OSError:
                if dest.exists():
                    continue
                os.replace(src, dest)
                return dest
            faults.point("mid_history_move")  # both names exist now: recovery must keep exactly one
            os.unlink(src)
            return dest
    raise FileExistsError(f"no free history name for {src.name}")


def write_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write a side file through a temp name and a rename, mode 0644."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
