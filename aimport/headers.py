"""Find the header row of a sheet and map its columns to an item type's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterator

from aimport.itemtypes.schema import DELETE, Field, ItemType, norm_header
from aimport.itemtypes.values import FAST_TEXT, as_text
from aimport.readers.base import Row

HEADER_SEARCH_ROWS = 10


class HeaderError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class HeaderMap:
    row_number: int
    columns: list[tuple[int, Field]]  # (cell index, field), Delete included
    unknown: list[str] = field(default_factory=list)
    unknown_columns: list[tuple[int, str]] = field(default_factory=list)  # (cell index, header text)

    @property
    def present(self) -> list[Field]:
        return [f for _, f in self.columns if f is not DELETE]

    @cached_property
    def plan(self) -> list[tuple[int, Field, Callable[[Field, str], Any] | None]]:
        """(cell index, field, fast converter for non-empty text cells or None) per mapped column."""
        return [(i, f, None if f is DELETE else FAST_TEXT.get(f.kind)) for i, f in self.columns]

    @cached_property
    def mandatory(self) -> list[str]:
        return [f.name for f in self.present if f.mandatory]

    @cached_property
    def staged(self) -> list[tuple[str, bool]]:
        """(field name, stored as JSON) in staged column order."""
        return [(f.name, f.kind in ("refs", "levels", "list")) for f in self.present]

    @property
    def has_delete(self) -> bool:
        return any(f is DELETE for _, f in self.columns)


def find_header(t: ItemType, rows: Iterator[tuple[int, Row]]) -> HeaderMap:
    """Read rows until the header row (within the first rows) and map it."""
    known = t.header_map()
    best: tuple[int, Row] | None = None
    for i, (row_no, row) in enumerate(rows):
        cells = [norm_header(as_text(c)) for c in row]
        hits = sum(1 for c in cells if c in known)
        if hits and (hits >= 2 or any(known[c].mandatory for c in cells if c in known) or len([c for c in cells if c]) == 1):
            best = (row_no, row)
            break
        if i + 1 >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise HeaderError(
            "NO_HEADER",
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows: expected columns like "
            + ", ".join(f.name for f in t.fields),
        )
    row_no, row = best
    columns: list[tuple[int, Field]] = []
    unknown: list[str] = []
    unknown_columns: list[tuple[int, str]] = []
    seen: set[str] = set()
    for idx, cell in enumerate(row):
        text = as_text(cell)
        key = norm_header(text)
        if not key:
            continue
        f = known.get(key)
        if f is None:
            unknown.append(text)
            unknown_columns.append((idx, text))
        elif f.name in seen:
            raise HeaderError("DUPLICATE_COLUMN", f"column {f.name} appears twice in the header row {row_no}")
        else:
            seen.add(f.name)
            columns.append((idx, f))
    missing = [f.name for f in t.fields if f.mandatory and f.name not in seen]
    if missing:
        raise HeaderError(
            "MISSING_COLUMN",
            f"mandatory column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing from the header row {row_no}",
        )
    if t.mandatory_any and not any(n in seen for n in t.mandatory_any):
        raise HeaderError("MISSING_COLUMN", f"at least one of the columns {', '.join(t.mandatory_any)} is needed")
    return HeaderMap(row_no, columns, unknown, unknown_columns)
