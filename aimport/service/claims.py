"""Claim records: the import key of a claimed file, bound to the file itself.

Before a file is renamed into InProcess/ a record named after its device and inode is
written to ``<state-dir>/claims/``; once the claim has its audit row, the record gets the
import key (``<audit uuid>-<import id>``) before the worker starts, and the worker ledgers its
transaction under that key in the system store. A record without a key: nothing was started. Whether a claimed file already committed is
decided from the file (its inode leads to the key) and the store's ledger, so losing or
replacing the audit trail can never make a committed file be applied again. The record is
removed once the file is archived; a file dropped again later (even the same inode moved back
from History/) is a new claim with a new key.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from aimport.atomicfile import write_atomic
from aimport.importing.filestate import FileIdentity
from aimport.store.audit import AuditEvent


@dataclass(frozen=True)
class Claim:
    """A file claimed for one import, as the lanes, recovery and ``aimport import`` each build it."""

    path: Path  # the file in InProcess/ (recovery: in History/ when it is imported again where it lies)
    import_type: str
    import_id: int
    key: str  # its ledger key, already bound to the file by its claim record
    identity: FileIdentity | None  # as claimed: a file that changed since waits until it is stable (None: not compared)
    lock: int | None  # the lock already taken on the file (None: taken when the import starts)
    recovered: bool = False  # imported again by start-up recovery
    claimed: AuditEvent | None = None  # a fresh claim's ``claimed`` event, written together with ``started``


@dataclass(frozen=True)
class ClaimRecord:
    key: str  # the ledger key of the claimed file's import ("" until the import is started)
    import_type: str
    file_name: str
    size: int
    mtime_ns: int


class ClaimBook:
    """The claim records of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "claims"

    def _path(self, ident: FileIdentity) -> Path:
        return self.dir / f"{ident.dev:x}-{ident.ino:x}.claim"

    def record(self, ident: FileIdentity, import_type: str, file_name: str, key: str = "") -> ClaimRecord:
        """Record the claim of the file ``ident`` (durably: before the rename, and again with its key)."""
        rec = ClaimRecord(key, import_type, file_name, ident.size, ident.mtime_ns)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        write_atomic(self._path(ident), json.dumps(asdict(rec), ensure_ascii=False) + "\n")
        return rec

    def claim(self, ident: FileIdentity, import_type: str, path: Path, dest: Path) -> ClaimRecord:
        """Record the claim of ``path`` (:meth:`record`, no key yet), then rename it to ``dest``; when the
        rename fails the record is removed again and the error raised."""
        rec = self.record(ident, import_type, path.name)
        try:
            os.rename(path, dest)
        except OSError:
            self.forget(ident)
            raise
        return rec

    def lookup(self, path: Path, import_type: str, file_name: str | None = None) -> ClaimRecord | None:
        """The claim of the file at ``path`` (any of its names), if it was claimed as ``import_type``
        (and under ``file_name`` when given)."""
        try:
            ident = FileIdentity.of(os.stat(path))
            data = json.loads(self._path(ident).read_text(encoding="utf-8"))
            rec = ClaimRecord(**data)
        except (OSError, ValueError, TypeError):
            return None
        if rec.import_type != import_type or (file_name is not None and rec.file_name != file_name):
            return None
        return rec

    def forget(self, ident: FileIdentity | None) -> None:
        if ident is None:
            return
        try:
            self._path(ident).unlink(missing_ok=True)
        except OSError:
            pass  # a stale record is harmless: the next claim of that inode writes a new key
