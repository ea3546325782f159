"""The folder contract: where files are dropped, processed, archived and exported."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from aimport.names import display_name as display_name  # the one escaping rule (callers import it from here)

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

    @cached_property
    def automatic(self) -> Path:
        return self.root / f"{self.server}_{self.unit}" / "Automatic"

    @property
    def export_dir(self) -> Path:
        return self.automatic / EXPORT

    @cached_property
    def _type_dirs(self) -> dict[str, tuple[Path, Path, Path]]:
        """Drop folder, InProcess/ and History/ of every import type (asked for several times per file)."""
        return {t: (self.automatic / t, self.automatic / t / IN_PROCESS, self.automatic / t / HISTORY)
                for t in IMPORT_TYPES}

    def type_dir(self, import_type: str) -> Path:
        dirs = self._type_dirs.get(import_type)
        return dirs[0] if dirs else self.automatic / import_type

    def in_process_dir(self, import_type: str) -> Path:
        dirs = self._type_dirs.get(import_type)
        return dirs[1] if dirs else self.type_dir(import_type) / IN_PROCESS

    def history_dir(self, import_type: str) -> Path:
        dirs = self._type_dirs.get(import_type)
        return dirs[2] if dirs else self.type_dir(import_type) / HISTORY

    def all_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for t in IMPORT_TYPES:
            dirs += [self.type_dir(t), self.in_process_dir(t), self.history_dir(t)]
        dirs.append(self.export_dir)
        return dirs

    def ensure(self) -> list[Path]:
        """Create every missing folder; return the ones that had to be created (see :meth:`survey`)."""
        return self.survey().created

    def survey(self, import_types: tuple[str, ...] = IMPORT_TYPES) -> FolderSurvey:
        """Create missing folders where their parent is usable; report every folder that is not.

        Never raises and never creates anything below a folder that is a link, a file or outside the root.
        """
        out = FolderSurvey()
        chain = [self.root / f"{self.server}_{self.unit}", self.automatic]
        for d in chain:
            if not self._usable(d, out, record=False):  # (created with the first folder below, as always)
                return out
        for t in import_types:
            if self._usable(self.type_dir(t), out):
                self._usable(self.in_process_dir(t), out)
                self._usable(self.history_dir(t), out)
        self._usable(self.export_dir, out)
        return out

    def _usable(self, d: Path, out: FolderSurvey, record: bool = True) -> bool:
        problem = self.folder_problem(d)
        if problem == MISSING:
            try:
                d.mkdir(parents=d.parent == self.root, exist_ok=True, mode=0o755)
                if record:
                    out.created.append(d)
            except OSError as exc:
                out.problems.append(FolderProblem(d, f"cannot be created ({exc.strerror or exc})"))
                return False
            problem = self.folder_problem(d)
        if problem:
            out.problems.append(FolderProblem(d, problem))
            return False
        return True

    def folder_problem(self, d: Path, real_root: str | None = None) -> str | None:
        """Why folder ``d`` (inside the root) must not be used now, or None when it is a real directory there.

        The folder itself is opened with no-follow (a link in its place is refused), and the path the kernel
        resolved for it must be exactly where it should be under the resolved root (no link on the way).
        ``real_root``: the root's resolved path when the caller has it (several folders checked at once).
        """
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return MISSING
        except OSError as exc:
            try:
                st = os.lstat(d)
            except OSError:
                return f"cannot be opened ({exc.strerror or exc})"
            if stat.S_ISLNK(st.st_mode):
                return "is a symbolic link; aimport never follows links out of the import root"
            if not stat.S_ISDIR(st.st_mode):
                return "is not a folder (a file is in its place)"
            return f"cannot be opened ({exc.strerror or exc})"
        try:
            real = _opened_path(fd) or os.path.realpath(d)
        finally:
            os.close(fd)
        root = real_root or real_path(self.root)
        top, here = str(self.root).rstrip(os.sep), str(d)
        if here.startswith(top + os.sep) and top.startswith(os.sep) and os.sep + "." not in here[len(top):]:
            rel = here[len(top) + 1:].rstrip(os.sep)  # (the common case, without resolving anything)
        else:
            try:
                rel = os.path.relpath(os.path.abspath(d), os.path.abspath(self.root))
            except ValueError:
                return "is outside the import root"
        if rel.startswith(os.pardir) or real != os.path.normpath(os.path.join(root, rel)):
            return "is reached through a symbolic link that leads outside the import root"
        return None

    def type_problems(self, import_type: str) -> list[FolderProblem]:
        """The folders an import of ``import_type`` uses (drop, InProcess/, History/) that are not usable now."""
        out: list[FolderProblem] = []
        root = real_path(self.root)
        # InProcess/ and History/ opened without following a link and resolved to exactly their place under
        # the root: then no folder above them is a link either (it would change the resolved path), nor a
        # file. Only when one of them is not fine are the folders checked from the top, to name the first.
        if not any(self.folder_problem(d, root) for d in (self.in_process_dir(import_type), self.history_dir(import_type))):
            return out
        for d in (self.automatic, self.type_dir(import_type), self.in_process_dir(import_type), self.history_dir(import_type)):
            problem = self.folder_problem(d, root)
            if problem:
                out.append(FolderProblem(d, problem))
                break
        return out

    def type_of(self, path: Path) -> str | None:
        """The import type whose drop folder directly holds ``path``."""
        parent = path.parent
        if parent.parent == self.automatic and parent.name in IMPORT_TYPES:
            return parent.name
        return None


MISSING = "is missing"
_PROC_FD = Path("/proc/self/fd")
_HAS_PROC_FD = _PROC_FD.is_dir()


def real_path(path: Path) -> str:
    """``os.path.realpath(path)`` of an existing folder, as the kernel resolves it (links followed)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return os.path.realpath(path)
    try:
        return _opened_path(fd) or os.path.realpath(path)
    finally:
        os.close(fd)


def _opened_path(fd: int) -> str | None:
    """The path the kernel resolved for the open folder ``fd`` (one call instead of resolving each part of
    the name); None where /proc is not there or the folder was removed meanwhile."""
    if not _HAS_PROC_FD:
        return None
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return None if path.endswith(" (deleted)") or not path.startswith("/") else path
@dataclass(frozen=True)
class FolderProblem:
    folder: Path
    problem: str  # "is a symbolic link; ...", "is not a folder (...)", ...


@dataclass
class FolderSurvey:
    created: list[Path] = field(default_factory=list)
    problems: list[FolderProblem] = field(default_factory=list)


def is_utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
