"""A partial import's rejected rows for the jobs view: the name its ``.result`` gives them, and the file's bytes.

``GET /api/imports/<id>/rejected`` downloads ``History/<stamp>_<stem>.rejected.xlsx`` (or ``.rejected.txt``)
of import ``<id>``: :func:`find` looks the import up in the audit trail, reads the ``rejected_file`` of its
``.result`` and accepts only one of the names archiving gives rejected rows
(:func:`aimport.history.rejected_names`), a regular file directly in the History/ folder of the import's
type (no link, nothing outside the root); :meth:`RejectedFile.chunks` then streams that same file (the
same inode) in blocks. The answer's headers (:meth:`RejectedFile.headers`) make the browser save it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aimport.history import rejected_names, result_field
from aimport.importing.rejectedscratch import EXTENSIONS
from aimport.layout import IMPORT_TYPES
from aimport.names import display_name
from aimport.settings import Settings
from aimport.store import auditqueries

__all__ = ["CHUNK", "CONTENT_TYPES", "RejectedFile", "find", "name_of"]

CHUNK = 64 << 10
CONTENT_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ".txt": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class RejectedFile:
    """The rejected rows of one import, found: where they are and what to answer with."""

    path: Path
    size: int
    inode: tuple[int, int]  # (st_dev, st_ino) when found: chunks() streams this file or nothing

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.path.suffix]

    def headers(self) -> dict[str, str]:
        """Content-Type, Content-Length and a Content-Disposition that saves the file under its History/ name."""
        plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in self.name)
        return {"Content-Type": self.content_type, "Content-Length": str(self.size),
                "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(self.name)}",
                "Cache-Control": "no-store"}

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes in blocks of :data:`CHUNK` (opened without following a link; a file replaced since
        :func:`find` ends the stream at once). Blocking: iterate it in a worker thread."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self.inode or not stat.S_ISREG(st.st_mode):
                return
            left = self.size
            while left > 0:
                block = os.read(fd, min(CHUNK, left))
                if not block:
                    return
                left -= len(block)
                yield block
        finally:
            os.close(fd)


def name_of(settings: Settings, row: dict[str, Any]) -> str:
    """The ``rejected_file`` an import's ``.result`` names (as the jobs view shows a name), or ""."""
    found = _named(settings, row)
    return display_name(found.name) if found is not None else ""


def find(settings: Settings, import_id: int) -> RejectedFile | str:
    """The rejected rows of import ``import_id``, or why there are none to download (an answer's 404 text)."""
    if not settings.audit_db.exists():
        return "no such import"
    row, _events = auditqueries.get_import(settings.audit_db, import_id)
    if row is None:
        return "no such import"
    path = _named(settings, row)
    if path is None:
        return "the import has no rejected rows file"
    try:
        st = os.lstat(path)
    except OSError:
        return "the rejected rows file is not in History/ any more"
    if not stat.S_ISREG(st.st_mode):
        return "the rejected rows file is not a regular file"
    return RejectedFile(path, st.st_size, (st.st_dev, st.st_ino))


def _named(settings: Settings, row: dict[str, Any]) -> Path | None:
    """The path the ``.result`` of a partial import names as its rejected rows, if it is one archiving gives."""
    t, hist = row.get("import_type"), row.get("history_name") or ""
    if row.get("status") != "partial" or t not in IMPORT_TYPES or not hist or Path(hist).name != hist:
        return None
    folder = settings.layout.history_dir(str(t))
    if folder.is_symlink():  # (the folder check reports it; nothing is read through it)
        return None
    value = result_field(folder / f"{hist}.result", "rejected_file")
    if not value:
        return None
    from aimport.service.archive import result_value  # the .result's escaping: a name is matched as written

    for ext in EXTENSIONS:
        for name in rejected_names(hist, ext):
            if result_value(name) == value:
                return folder / name
    return None
