"""One import's ``.log`` for the jobs view: read safely (inside the import root or the work folder, capped) and
its REJECT lines as rows of a table.

A work-log line is ``YYYY-MM-DD HH:MM:SS LEVEL   text`` (:mod:`aimport.importing.worklog`); a rejected row is
``... REJECT  sheet 'Skills' row 7 column Name: Name is mandatory`` (the column part only when one is known).
"""

from __future__ import annotations

import ast
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LOG_CAP_BYTES", "LogText", "RejectedRow", "read_log", "rejected_rows"]

LOG_CAP_BYTES = 1 << 20  # the first MiB of a .log is shown; the rest is marked as left out
REJECT_CAP = 5000  # rows of the rejected-rows table
LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<level>[A-Z]+) +(?P<text>.*)$")
REJECT = re.compile(r"^sheet (?P<sheet>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\") row (?P<row>\d+)"
                    r"(?: column (?P<column>.*?))?: (?P<reason>.*)$")


@dataclass(frozen=True)
class RejectedRow:
    sheet: str
    row: int
    column: str  # "" when the reason names no single column
    reason: str


@dataclass
class LogText:
    source: str = ""  # "history" (archived), "work" (the import is running) or "" (no log to show)
    lines: list[str] = field(default_factory=list)
    truncated: bool = False  # the file is longer than LOG_CAP_BYTES
    size: int = 0
    problem: str = ""  # why nothing is shown, when there is a reason


def read_log(path: Path, inside: Path, source: str) -> LogText:
    """The first LOG_CAP_BYTES of ``path`` as lines, if it is a regular file in the folder ``inside`` (no links)."""
    if path.parent != inside or path.name in ("", ".", "..") or "/" in path.name or "\x00" in path.name:
        return LogText(problem="not a log file name")
    try:
        if os.path.realpath(path.parent) != os.path.realpath(inside) or Path(inside).is_symlink():
            return LogText(problem="the folder is a link")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return LogText(problem="the .log is not there (moved or pruned)")
    except OSError as exc:
        return LogText(problem=f"the .log cannot be read: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return LogText(problem="the .log is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(LOG_CAP_BYTES + 1)
    except OSError as exc:
        return LogText(problem=f"the .log cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    truncated = len(data) > LOG_CAP_BYTES
    text = data[:LOG_CAP_BYTES].decode("utf-8", "replace")
    lines = text.splitlines()
    if truncated and lines and not text.endswith("\n"):
        lines.pop()  # a line cut at the cap
    return LogText(source, lines, truncated, st.st_size)


def rejected_rows(lines: list[str]) -> list[RejectedRow]:
    """The REJECT lines among ``lines`` (at most REJECT_CAP), in file order."""
    out: list[RejectedRow] = []
    for line in lines:
        m = LINE.match(line)
        if m is None or m["level"] != "REJECT":
            continue
        r = REJECT.match(m["text"])
        if r is None:
            out.append(RejectedRow("", 0, "", m["text"]))
        else:
            try:
                sheet = ast.literal_eval(r["sheet"])
            except (ValueError, SyntaxError):
                sheet = r["sheet"].strip("'\"")
            out.append(RejectedRow(str(sheet), int(r["row"]), r["column"] or "", r["reason"]))
        if len(out) >= REJECT_CAP:
            break
    return out
