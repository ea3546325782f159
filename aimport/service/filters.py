"""Which entries of a drop folder are imports (a filter is a small object)."""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from aimport.layout import is_utf8_name

TEMP_PATTERNS: tuple[str, ...] = ("~$*", "*.tmp", "*.part", "*.crdownload", "*.partial", ".~lock.*#")


@dataclass(frozen=True)
class Verdict:
    accept: bool
    reason: str = ""  # why not accepted: "hidden", "temporary", "gone", "symlink", "bad name", ...
    report: str = ""  # when set, the entry is reported once (audit ``ignored`` + a log line) with this text


BAD_NAME = ("file name is not valid UTF-8: never imported, left alone; rename it (letters that are "
            "not UTF-8 cannot be shown or recorded)")


@dataclass(frozen=True)
class ImportFileFilter:
    """Accept regular, visible, non-temporary files; reject the rest with a reason."""

    patterns: tuple[str, ...] = field(default=TEMP_PATTERNS)

    def name_ok(self, name: str) -> Verdict:
        if not is_utf8_name(name):
            return Verdict(False, "bad name", BAD_NAME)
        if name.startswith("."):
            return Verdict(False, "hidden")
        low = name.lower()
        for pat in self.patterns:
            if fnmatch.fnmatchcase(low, pat.lower()):
                return Verdict(False, "temporary")
        return Verdict(True)

    def check(self, path: Path) -> Verdict:
        v = self.name_ok(path.name)
        if not v.accept:
            return v
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return Verdict(False, "gone")
        if stat.S_ISLNK(st.st_mode):
            return Verdict(False, "symlink", "symlink: never imported, left alone")
        if not stat.S_ISREG(st.st_mode):
            return Verdict(False, "not a regular file")
        return Verdict(True)
