"""Retrying a failed or partial import: ``aimport retry ID`` and the jobs view's Retry.

The archived original (``History/<history name>``) is copied back into its type's drop folder under its own
name, where the service imports it like any dropped file; that import's audit row records ``retry_of`` (the
import retried). The copy is written under a hidden name first, a note ``STATE/retries/<dev>-<inode>.json``
binds the retry to that very file (its device, inode, size and mtime, kept by the move into place), and only
then is it moved to its name without overwriting: a file of that name already waiting is never replaced (the
retry is refused, 409). When the service claims the file it reads the note (:func:`retry_of`) and removes
it once the import's row holds it (:func:`forget`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aimport.atomicfile import replacing, write_atomic
from aimport.history import move_no_clobber
from aimport.importing.filestate import FileIdentity
from aimport.layout import display_name
from aimport.service.actionrefused import ActionRefused
from aimport.settings import Settings
from aimport.store import auditqueries

__all__ = ["RETRIED", "Retry", "drop_again", "forget", "retry_of"]

RETRIED = ("failed", "partial")  # the statuses an import may be retried from
NOTES = "retries"


@dataclass(frozen=True)
class Retry:
    import_id: int  # the import retried
    import_type: str
    file_name: str
    dropped: Path  # the copy in the drop folder


def _note(state_dir: Path, dev: int, ino: int) -> Path:
    return state_dir / NOTES / f"{dev:x}-{ino:x}.json"


def drop_again(settings: Settings, import_id: int, requested_by: str) -> Retry:
    """Copy the archived original of import ``import_id`` back into its drop folder (see the module's text)."""
    try:
        row, _ = auditqueries.get_import(settings.audit_db, import_id)
    except FileNotFoundError:
        row = None
    if row is None:
        raise ActionRefused(404, f"no import {import_id} in the audit trail (`aimport audit` lists them)")
    status, import_type, name = row["status"], row["import_type"], row["file_name"]
    if status not in RETRIED:
        raise ActionRefused(409, f"import {import_id} is {status}: only a failed or partial import is retried")
    history = settings.layout.history_dir(import_type)
    original = history / row["history_name"] if row["history_name"] else None
    if original is None or original.parent != history or not original.is_file():
        shown = f"History/{display_name(row['history_name'])}" if row["history_name"] else "its archived file"
        raise ActionRefused(409, f"import {import_id} cannot be retried: {shown} is gone (drop the file again yourself)")
    layout = settings.layout
    shown = f"{import_type}/{display_name(name)}"
    for folder, where in ((layout.type_dir(import_type), "waits in the drop folder"),
                          (layout.in_process_dir(import_type), "is importing (in InProcess/)")):
        if (folder / name).exists():
            raise ActionRefused(409, f"a file {shown} {where}: retry import {import_id} once it is gone")
    stage = layout.type_dir(import_type) / f".aimport-retry-{import_id}-{os.getpid()}"  # hidden: never taken for a drop
    note = None
    try:
        with replacing(stage) as tmp:
            shutil.copyfile(original, tmp)
        st = os.stat(stage)
        note = _note(settings.state_dir, st.st_dev, st.st_ino)
        note.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        write_atomic(note, json.dumps({"retry_of": import_id, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                                       "file": name, "requested_by": requested_by}, ensure_ascii=False) + "\n")
        try:
            dropped = move_no_clobber(stage, layout.type_dir(import_type), [name])
        except FileExistsError:
            raise ActionRefused(409, f"a file {shown} waits in the drop folder: retry import {import_id} once it "
                                     "is gone") from None
    except BaseException:
        stage.unlink(missing_ok=True)
        if note is not None:
            note.unlink(missing_ok=True)
        raise
    return Retry(import_id, import_type, name, dropped)


def retry_of(state_dir: Path, ident: FileIdentity) -> int | None:
    """The import that the file ``ident`` (as the service claims it) retries; None: it is no retry."""
    try:
        data = json.loads(_note(state_dir, ident.dev, ident.ino).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("size") != ident.size or data.get("mtime_ns") != ident.mtime_ns:
        return None
    value = data.get("retry_of")
    return value if isinstance(value, int) else None


def forget(state_dir: Path, ident: FileIdentity) -> None:
    try:
        _note(state_dir, ident.dev, ident.ino).unlink(missing_ok=True)
    except OSError:
        pass  # a stale note is harmless: it names this inode's size and mtime, which a new file does not share
