"""One import's ``.log`` for the jobs view: read safely (inside the import root or the work folder, capped),
shown a page at a time, and its REJECT lines as rows of a table, also a page at a time.

A work-log line is ``YYYY-MM-DD HH:MM:SS LEVEL   text`` (:mod:`aimport.importing.worklog`); a rejected row is
``... REJECT  sheet 'Skills' row 7 column Name: Name is mandatory`` (the column part only when one is known).

A log is read and indexed once (where each line starts, which lines are REJECT lines) and the index is kept in
a small cache keyed by the file's identity, size and mtime (a running import's work log grows: a new size is a
new entry), so a page of a 30,000-line log costs a slice, not a parse of the whole file. Indexing runs in the
caller's worker thread, one log at a time (others wait for it instead of doing the same work beside it).
"""

from __future__ import annotations

import bisect
import os
import re
import stat
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aimport.names import display_name

__all__ = ["LOG_CAP_BYTES", "LOG_PAGE", "REJECTED_PAGE", "LogIndex", "LogText", "RejectedRow", "load_log",
           "read_log", "rejected_rows"]

LOG_CAP_BYTES = 16 << 20  # the first 16 MiB of a .log are shown (a page at a time); the rest is marked as left out
LOG_PAGE = 500  # log lines per answer unless the request says (log_limit, at most LOG_PAGE_MAX)
LOG_PAGE_MAX = 2000
REJECTED_PAGE = 200  # rejected rows per answer unless the request says (rejected_limit, at most REJECTED_PAGE_MAX)
REJECTED_PAGE_MAX = 1000
CACHE_BYTES = 48 << 20  # indexed logs kept (the least recently used go first)
LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<level>[A-Z]+) +(?P<text>.*)$", re.ASCII)
REJECT = re.compile(r"^sheet (?P<sheet>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") row (?P<row>\d+)"
                    r"(?: column (?P<column>.*?))?: (?P<reason>.*)$", re.ASCII)
_REJECT_AT = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d REJECT ", re.MULTILINE)
_ERROR_AT = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ERROR ", re.MULTILINE)
MESSAGE_MAX = 2000  # characters of an ERROR line shown as the reason an import failed
_NEWLINE = re.compile(rb"\n")


@dataclass(frozen=True)
class RejectedRow:
    sheet: str
    row: int
    column: str  # "" when the reason names no single column
    reason: str


@dataclass
class LogText:
    source: str = ""  # "history" (archived), "work" (the import is running) or "" (no log to show)
    lines: list[str] = field(default_factory=list)  # the page asked for: lines offset .. offset + len(lines) - 1
    truncated: bool = False  # the file is longer than LOG_CAP_BYTES
    size: int = 0
    problem: str = ""  # why nothing is shown, when there is a reason
    offset: int = 0  # the first line of the page (0: the first line of the file)
    total: int = 0  # lines in the part of the file that is shown (the first LOG_CAP_BYTES)


@dataclass(frozen=True)
class LogIndex:
    """A log's first LOG_CAP_BYTES (whole lines), where each line starts and which lines are REJECT lines."""

    data: bytes
    starts: array[int]  # line i is data[starts[i]:starts[i + 1]]; len(starts) = lines + 1
    rejects: array[int]  # line numbers of the REJECT lines, in file order
    size: int  # the file's size
    truncated: bool
    error_line: int = -1  # the first ERROR line (-1: none)

    @property
    def total(self) -> int:
        return len(self.starts) - 1

    @property
    def cost(self) -> int:
        return len(self.data) + 8 * (len(self.starts) + len(self.rejects))

    def line(self, i: int) -> str:
        return self.data[self.starts[i]:self.starts[i + 1]].rstrip(b"\r\n").decode("utf-8", "replace")

    def lines(self, offset: int, limit: int) -> list[str]:
        """Lines ``offset`` .. ``offset + limit - 1``, each as one line of printable text."""
        return [display_name(self.line(i)) for i in range(min(offset, self.total), min(offset + limit, self.total))]

    def rejected(self, offset: int, limit: int) -> list[RejectedRow]:
        return rejected_rows(self.line(i) for i in self.rejects[offset:offset + limit])

    def first_error(self) -> str:
        """The text of the first ERROR line (what the import said when it failed), "" when there is none."""
        if self.error_line < 0:
            return ""
        line = LINE.match(self.line(self.error_line))
        return display_name(line["text"][:MESSAGE_MAX]) if line else ""


def index_log(data: bytes, size: int, truncated: bool) -> LogIndex:
    """Index ``data`` (whole lines: a line cut at the cap is left out)."""
    if truncated and not data.endswith(b"\n"):
        data = data[:data.rfind(b"\n") + 1]
    starts = array("q", [0])
    starts.extend(m.end() for m in _NEWLINE.finditer(data))
    if starts[-1] != len(data):
        starts.append(len(data))  # a last line without its line break
    rejects = array("q", (bisect.bisect_right(starts, m.start()) - 1 for m in _REJECT_AT.finditer(data)))
    first = _ERROR_AT.search(data)
    error_line = bisect.bisect_right(starts, first.start()) - 1 if first else -1
    return LogIndex(data, starts, rejects, size, truncated, error_line)


class _Cache:
    """Indexed logs by identity; one index is built at a time (a second request for it waits for the first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.entries: OrderedDict[tuple[int, ...], LogIndex] = OrderedDict()
        self.lock = threading.Lock()  # the entries
        self.building = threading.Lock()  # one index is built at a time

    def get(self, key: tuple[int, ...]) -> LogIndex | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[int, ...], index: LogIndex) -> None:
        with self.lock:
            self.entries[key] = index
            while len(self.entries) > 1 and sum(e.cost for e in self.entries.values()) > self.limit:
                self.entries.popitem(last=False)


_cache = _Cache(CACHE_BYTES)


def load_log(path: Path, inside: Path) -> LogIndex | str:
    """The index of ``path`` if it is a regular file in the folder ``inside`` (no links); else why not."""
    if path.parent != inside or path.name in ("", ".", "..") or "/" in path.name or "\x00" in path.name:
        return "not a log file name"
    try:
        if os.path.realpath(path.parent) != os.path.realpath(inside) or Path(inside).is_symlink():
            return "the folder is a link"
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return "the .log is not there (moved or pruned)"
    except OSError as exc:
        return f"the .log cannot be read: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "the .log is not a regular file"
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        found = _cache.get(key)
        if found is not None:
            return found
        with _cache.building:
            found = _cache.get(key)  # built meanwhile by the request this one waited for
            if found is None:
                with os.fdopen(fd, "rb", closefd=False) as fh:
                    data = fh.read(LOG_CAP_BYTES + 1)
                found = index_log(data[:LOG_CAP_BYTES], st.st_size, len(data) > LOG_CAP_BYTES)
                _cache.put(key, found)
        return found
    except OSError as exc:
        return f"the .log cannot be read: {exc.strerror or exc}"
    finally:
        os.close(fd)


def read_log(path: Path, inside: Path, source: str, offset: int = 0, limit: int = LOG_PAGE) -> LogText:
    """One page of ``path`` (see :func:`load_log`)."""
    index = load_log(path, inside)
    if isinstance(index, str):
        return LogText(problem=index)
    return page_of(index, source, offset, limit)


def page_of(index: LogIndex, source: str, offset: int, limit: int) -> LogText:
    return LogText(source, index.lines(offset, limit), index.truncated, index.size, offset=offset, total=index.total)


def rejected_rows(lines: Iterable[str]) -> list[RejectedRow]:
    """The REJECT lines among ``lines`` (an iterable of log lines), in file order, as rows; names and reasons as
    one line of printable text."""
    out: list[RejectedRow] = []
    for line in lines:
        m = LINE.match(line)
        if m is None or m["level"] != "REJECT":
            continue
        r = REJECT.match(m["text"])
        if r is None:
            out.append(RejectedRow("", 0, "", display_name(m["text"])))
            continue
        out.append(RejectedRow(display_name(_unquoted(r["sheet"])), int(r["row"]), display_name(r["column"] or ""),
                               display_name(r["reason"])))
    return out


def _unquoted(literal: str) -> str:
    """The text of a quoted Python string literal (``repr`` of the sheet name, as the .log writes it). Not
    ``ast.literal_eval``: that is not safe in threads (CPython's "AST constructor recursion depth mismatch")."""
    inner = literal[1:-1]
    try:
        return inner.encode("ascii", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return inner
