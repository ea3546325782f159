"""The scratch files of an import in ``STATE/work``: their names, in one place, and their removal.

An import stages its rows in ``<key>.stage.sqlite`` (item types) or ``<key>.customers.sqlite`` (a
campaign's customers), keeps its rejected rows in ``<key>.rejected.sqlite``, and removes them when it ends
(the rejected rows' workbook is written through the hidden temp ``.<key>.rejected.xlsx.tmp``, also scratch
until it is in place). A process that dies (the OOM killer, kill -9)
cannot: the service removes the files of a worker that died (:func:`files_of`) and, at start, every
one that no live process still has open (:func:`left_over`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["KINDS", "files_of", "left_over", "path", "remove"]

KINDS = ("stage", "customers", "rejected")  # <key>.stage.sqlite, <key>.customers.sqlite, <key>.rejected.sqlite
_SIDE = ("", "-journal", "-wal", "-shm")  # SQLite's own files next to a database
_TEMPS = (".rejected.xlsx.tmp", ".rejected.txt.tmp")  # atomicfile.temp_path of a rejected rows' work file


def path(work_dir: Path, import_key: str, kind: str) -> Path:
    """The scratch database ``kind`` (one of :data:`KINDS`) of the import ``import_key``."""
    assert kind in KINDS, kind
    return work_dir / f"{import_key}.{kind}.sqlite"


def files_of(work_dir: Path, import_key: str) -> list[Path]:
    """Every scratch file the import ``import_key`` may have left (whether it exists or not)."""
    return ([Path(f"{path(work_dir, import_key, kind)}{side}") for kind in KINDS for side in _SIDE]
            + [work_dir / f".{import_key}{temp}" for temp in _TEMPS])


def left_over(work_dir: Path) -> list[Path]:
    """The scratch files in ``work_dir`` (of any import)."""
    try:
        names = [p for p in work_dir.iterdir() if p.is_file()]
    except OSError:
        return []
    ends = tuple(f".{kind}.sqlite{side}" for kind in KINDS for side in _SIDE) + _TEMPS
    return sorted(p for p in names if p.name.endswith(ends))


def remove(paths: list[Path]) -> int:
    """Remove ``paths`` (best effort: one that cannot be removed is left for the next start); how many were."""
    removed = 0
    for p in paths:
        try:
            p.unlink()
            removed += 1
        except OSError:  # gone already, or not removable now (the next start tries again)
            pass
    return removed
