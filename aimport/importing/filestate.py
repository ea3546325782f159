"""Is a claimed file still being written? Its identity (device, inode, size, mtime, ctime) and open writers.

A file is only committed if it is the same file, unchanged, from the claim to the commit: the
identity is compared at the claim, when the worker starts, after reading and right before
COMMIT. The status change time (ctime) is part of it: a tool that rewrites a file in place and
puts its size and mtime back cannot put the ctime back (the kernel sets it at every write and at
``utime`` itself). Where the platform tells (Linux, local file systems), a file another process
still holds open for writing counts as changing too: a writer pausing longer than the settle time
has not finished. Right before COMMIT the file is also hashed again (:func:`sha256_matching`): a
rewrite within one tick of the file system's clock leaves even the ctime as it was, its bytes not.

The service hashes the claimed file while it checks it (:func:`check` with ``digest``) and hands the
sha256 to the worker with the identity it belongs to: the service has OpenSSL loaded anyway (asyncio
imports ssl), and a worker process that never imports :mod:`hashlib` stays 3.4 MB smaller: where OpenSSL is
not loaded, :func:`sha256_of` uses the interpreter's own sha256 (4x slower: 190 MB/s here).
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

__all__ = ["FileIdentity", "Unsettled", "check", "identity", "open_for_writing", "sha256_matching", "sha256_of",
           "wait_stable"]

F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024 if os.uname().sysname == "Linux" else None)
# a file that has not changed for this long is taken even if a process still holds it open for writing
WRITER_GRACE_S = 60.0


@dataclass(frozen=True)
class FileIdentity:
    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int = 0  # 0: not compared (the identity of a file before a rename, which sets the ctime)

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def describe(self) -> str:
        return f"{self.size} bytes, inode {self.ino}"

    def change_from(self, before: FileIdentity) -> str:
        """What changed since ``before``, in words (empty when nothing did)."""
        if (self.dev, self.ino) != (before.dev, before.ino):
            return "it was replaced by another file"
        if self.size != before.size:
            return f"its size changed from {before.size} to {self.size} bytes"
        if self.mtime_ns != before.mtime_ns:
            return "it was written to (its modification time changed)"
        if before.ctime_ns and self.ctime_ns != before.ctime_ns:
            return ("it was rewritten in place or its attributes were changed (its change time moved; its size and "
                    "modification time are as before)")
        return ""


def identity(path: Path) -> FileIdentity | None:
    try:
        return FileIdentity.of(os.stat(path))
    except OSError:
        return None


def open_for_writing(path: Path) -> bool | None:
    """True when another process holds ``path`` open for writing; None when the platform cannot tell.

    A read lease is refused (EAGAIN) while any process has the file open for writing; it is
    released at once (no owner is set, so no signal is ever sent).
    """
    if F_SETLEASE is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno == errno.EAGAIN else None  # EINVAL/EPERM: no leases here (network share, owner)
    finally:
        try:
            fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        except OSError:
            pass
        os.close(fd)
    return False


@dataclass
class Unsettled:
    """Why a claimed file is not ready to import (empty ``reason``: it is)."""

    now: FileIdentity | None
    reason: str = ""
    sha256: str = ""  # the hash of the bytes of ``now`` (``check`` with ``digest``; empty: not hashed)


def check(path: Path, expected: FileIdentity | None, writers: bool = True, digest: bool = False) -> Unsettled:
    """Compare ``path`` with ``expected``; with ``writers``, an open writer is a change too.

    With ``digest``, a file that is ready is hashed too; the hash is given only if the file did not
    change while it was hashed.
    """
    now = identity(path)
    if now is None:
        return Unsettled(None, "it is gone")
    if expected is not None:
        changed = now.change_from(expected)
        if changed:
            return Unsettled(now, changed)
    if writers and open_for_writing(path):
        return Unsettled(now, "a process still has it open for writing")
    return Unsettled(now, sha256=sha256_matching(path, now) if digest else "")


def sha256_of(path: Path) -> str:
    """The file's sha256 (OpenSSL's only where it is loaded anyway: see the module's note).

    Read into one 256 KB buffer: fresh 1 MB pieces stayed resident in the service's heap (1.8 MB).
    """
    h = _sha256()
    buf = bytearray(256 << 10)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _sha256() -> Any:
    if "_ssl" in sys.modules or "_hashlib" in sys.modules:  # OpenSSL is in this process anyway (the service)
        import hashlib

        return hashlib.sha256()
    for name in ("_sha2", "_sha256"):  # the interpreter's own (Python 3.12+, 3.11)
        try:
            return importlib.import_module(name).sha256()
        except ImportError:
            continue
    import hashlib  # an interpreter built without its own hashes

    return hashlib.sha256()


def sha256_matching(path: Path, ident: FileIdentity) -> str:
    """The sha256 of ``path`` if it is the file ``ident`` before and after it is hashed; empty otherwise."""
    if identity(path) != ident:
        return ""
    try:
        digest = sha256_of(path)
    except OSError:
        return ""
    return digest if identity(path) == ident else ""


async def wait_stable(path: Path, settle_s: float, grace_s: float = WRITER_GRACE_S) -> FileIdentity | None:
    """Wait until ``path`` has not changed for ``settle_s`` and no process writes it; its identity then.

    A file unchanged for ``grace_s`` is taken even if a process keeps it open (some tools never
    close). None when the file is gone.
    """
    step = min(max(settle_s / 4, 0.05), 1.0)
    last = identity(path)
    since = unchanged_since = time.monotonic()
    while True:
        if last is None:
            return None
        await anyio.sleep(step)
        now = identity(path)
        t = time.monotonic()
        if now != last:
            last, since, unchanged_since = now, t, t
            continue
        if t - since < settle_s:
            continue
        if await anyio.to_thread.run_sync(open_for_writing, path) and t - unchanged_since < grace_s:
            since = t  # still open for writing: the writer may only be pausing
            continue
        return now
