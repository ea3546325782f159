"""History names: where an imported file is archived under ``History/``, and the move that never overwrites.

``<stamp>_<file name>``, then `` (2)`` ... when taken; a name too long for the file system is shortened to
stamp + start of the name + ``~hash`` + extension (the ``.result`` keeps the original name). A partial
import's rejected rows go beside it as ``<stamp>_<stem>.rejected.xlsx`` (:func:`place_rejected`).
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import overload

from aimport import faults
from aimport.atomicfile import MODE, sync, temp_path

__all__ = [
    "HISTORY_NAME_MAX",
    "HISTORY_NAME_TRIES",
    "HistoryNames",
    "history_candidates",
    "history_stamp",
    "move_no_clobber",
    "place_rejected",
    "rejected_names",
    "result_field",
]

HISTORY_NAME_MAX = 240  # bytes: + "." + ".result" + ".tmp" (the side file's temp name) stays under NAME_MAX (255)
MAX_EXT_BYTES = 16
HISTORY_NAME_TRIES = 9999  # the name itself, then " (2)" ... " (9999)"


def history_stamp(at: datetime) -> str:
    """``yyyyMMdd_HHmmss`` in local time, 24-hour clock."""
    return at.astimezone().strftime("%Y%m%d_%H%M%S")


class HistoryNames(Sequence[str]):
    """The History names of one file, in the order they are tried; each made when it is asked for (archiving
    a burst of small files tries one or two of them, not all 9,999)."""

    def __init__(self, stamp: str, file_name: str) -> None:
        stem, dot, ext = file_name.rpartition(".")
        if not dot or not stem or len(ext.encode("utf-8", "surrogateescape")) > MAX_EXT_BYTES:
            stem, ext = file_name, ""
        else:
            ext = "." + ext
        self._parts = (stamp, stem, ext)
        self._whole = file_name

    def __len__(self) -> int:
        return HISTORY_NAME_TRIES

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        n = i % len(self)
        return _fit(*self._parts, f" ({n + 1})" if n else "", self._whole)


def history_candidates(stamp: str, file_name: str) -> HistoryNames:
    """Names tried in order; the first free one wins (never overwrite).

    A name longer than :data:`HISTORY_NAME_MAX` bytes is shortened: the stamp, the start of the name,
    ``~`` and a short hash of the whole name, then the extension (``.result`` keeps the original name).
    """
    return HistoryNames(stamp, file_name)


def _fit(stamp: str, stem: str, ext: str, suffix: str, whole: str) -> str:
    name = f"{stamp}_{stem}{suffix}{ext}"
    if len(name.encode("utf-8", "surrogateescape")) <= HISTORY_NAME_MAX:
        return name
    tag = "~" + hashlib.sha256(whole.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = HISTORY_NAME_MAX - len(f"{stamp}_{tag}{suffix}{ext}".encode("utf-8", "surrogateescape"))
    start = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{stamp}_{start}{tag}{suffix}{ext}"


def move_no_clobber(src: Path, dest_dir: Path, names: Iterable[str]) -> Path:
    """Move ``src`` into ``dest_dir`` under the first name not taken, durably.

    Uses a hard link (fails atomically if the name exists) and falls back to
    an existence check plus rename on file systems without hard links. Both
    folders are flushed to disk (the new name before the old one goes), so a
    power loss leaves the file under one name or both, never under none.
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
                sync(dest_dir, directory=True)
                sync(src.parent, directory=True)
                return dest
            sync(dest_dir, directory=True)
            faults.point("mid_history_move")  # both names exist now: recovery must keep exactly one
            os.unlink(src)
            sync(src.parent, directory=True)
            return dest
    raise FileExistsError(f"no free history name for {src.name}")



REJECTED_TRIES = 99
_NAME_MAX = 250  # bytes: + "." + ".tmp" (the temp name) stays under NAME_MAX (255)


def rejected_names(history_name: str, ext: str) -> list[str]:
    """The names tried for the rejected rows of the file archived as ``history_name``: ``<stem>.rejected<ext>``,
    then ``<stem>.rejected (2)<ext>`` ... (``<stem>``: the History name without its extension)."""
    stem, dot, old = history_name.rpartition(".")
    if not dot or not stem or len(old.encode("utf-8", "surrogateescape")) > MAX_EXT_BYTES:
        stem = history_name
    out = []
    for n in range(1, REJECTED_TRIES + 1):
        tail = f".rejected{f' ({n})' if n > 1 else ''}{ext}"
        room = _NAME_MAX - len(tail.encode("utf-8", "surrogateescape"))
        out.append(stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore") + tail)
    return out


def place_rejected(src: Path, dest: Path) -> str:
    """Copy the rejected rows' work file ``src`` beside the archived ``dest`` (its History/ path), durably and
    never over another file; returns the name it has there.

    A name already holding the same bytes is this import's copy from an earlier try (archiving runs again after
    a crash or a disk error before the ``.result``): it is kept. Any other file under a name is never touched.
    """
    for name in rejected_names(dest.name, src.suffix):
        target = dest.with_name(name)
        if target.exists():
            if filecmp.cmp(src, target, shallow=False):
                return name
            continue
        tmp = temp_path(target)
        try:
            shutil.copyfile(src, tmp)
            os.chmod(tmp, MODE)
            sync(tmp)
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system: check, then rename
                if target.exists():
                    continue
                os.replace(tmp, target)
            sync(target.parent, directory=True)
            return name
        finally:
            tmp.unlink(missing_ok=True)
    raise FileExistsError(f"no free name for the rejected rows of {dest.name}")


RESULT_MAX = 1 << 20  # a .result is a few hundred bytes; more is not one aimport wrote


def result_field(result: Path, name: str) -> str:
    """The value of the field ``name`` in the ``.result`` file ``result`` as written (escaped), or "" when the
    file or the field is not there; a link is not followed."""
    try:
        fd = os.open(result, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        data = os.read(fd, RESULT_MAX).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)
    prefix = f"{name}: "
    return next((line[len(prefix):] for line in data.splitlines() if line.startswith(prefix)), "")
