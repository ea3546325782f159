"""Writing a file so that readers see the old one or the whole new one, never a part, even after a crash.

Every file aimport hands to a person or a later run (side files in History/, claim records,
the service record, campaign and configuration exports, templates) is written to a hidden temp
name next to it (:func:`temp_path`), flushed to disk, made mode 0644, renamed into place, and then
its folder is flushed too (:func:`put_in_place`): only then does the new name survive a power loss.
This module is the one place that renames a written file into place or calls ``fsync``
(``tests/test_architecture.py`` checks it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["finish", "put_in_place", "replacing", "sync", "temp_path", "write_atomic", "write_bytes_atomic"]

MODE = 0o644


def temp_path(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place (hidden, and never taken for a drop)."""
    return path.with_name(f".{path.name}.tmp")


def sync(path: Path, directory: bool = False) -> None:
    """Flush ``path`` (a file, or with ``directory`` the folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def put_in_place(tmp: Path, path: Path, durable: bool = True) -> Path:
    """Rename the written (and, when ``durable``, flushed) ``tmp`` to ``path``; with ``durable`` the folder is
    flushed after the rename, so the new name survives a power loss."""
    os.replace(tmp, path)
    if durable:
        sync(path.parent, directory=True)
    return path


def finish(tmp: Path, path: Path, before_rename: Callable[[], None] | None = None, durable: bool = True) -> Path:
    """Make the written ``tmp`` mode 0644, flush it to disk, run ``before_rename``, rename it to ``path`` and flush
    the folder. Without ``durable`` (a file worth nothing after a crash: a running import's progress) nothing is
    flushed: still atomic, but a power loss may take it back."""
    os.chmod(tmp, MODE)
    if durable:
        sync(tmp)
    if before_rename is not None:
        before_rename()
    return put_in_place(tmp, path, durable)


@contextmanager
def replacing(path: Path, before_rename: Callable[[], None] | None = None, durable: bool = True) -> Iterator[Path]:
    """Yield the temp path to write ``path`` through; it is put in place (:func:`finish`) when the block ends, and
    removed when the block (or ``before_rename``) raises."""
    tmp = temp_path(path)
    try:
        yield tmp
        finish(tmp, path, before_rename, durable)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, text: str, encoding: str = "utf-8", durable: bool = True) -> None:
    """Write ``text`` (``\\n`` line ends) to ``path`` atomically and (unless told otherwise) durably, mode 0644."""
    with replacing(path, durable=durable) as tmp, open(tmp, "w", encoding=encoding, newline="\n") as fh:
        fh.write(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably, mode 0644."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
