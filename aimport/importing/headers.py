"""Find the header row of a sheet and map its columns to an item type's fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

from aimport.errors import CodedError
from aimport.importing.rejectedscratch import REASON
from aimport.itemtypes.catalog import HINT_TYPES
from aimport.itemtypes.schema import DELETE, Field, ItemType, norm_header
from aimport.itemtypes.values import FAST_TEXT, as_text
from aimport.readers.base import Row

HEADER_SEARCH_ROWS = 10
REASON_KEY = norm_header(REASON)  # a rejected rows' workbook's Reason column: passed over without a word


class HeaderError(CodedError):
    """The header row cannot be used (no header, a missing or duplicate column, another folder's header)."""


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
    def names(self) -> frozenset[str]:
        """The names of the fields in the header (Delete left out)."""
        return frozenset(f.name for f in self.present)

    @cached_property
    def staged(self) -> list[tuple[str, bool]]:
        """(field name, stored as JSON) in staged column order."""
        return [(f.name, f.kind in ("refs", "levels", "list")) for f in self.present]


def find_header(t: ItemType, rows: Iterator[tuple[int, Row]], hidden: Set[int] = frozenset()) -> HeaderMap:
    """Read rows until the header row (within the first rows) and map it; ``hidden`` rows are never the header
    (nor counted among the first rows).

    The header must identify objects of ``t`` (hold one of its identifications), or, for a type whose rows
    always create (``t.creates_only``) or a Directory without ExternalId, hold the columns needed to create;
    the other mandatory columns are needed only by rows that create (the engine rejects those rows).
    A ``Reason`` column (the one a rejected rows' workbook adds) is passed over, unless the type keeps
    unknown columns (a campaign's customers).
    A header that another import type reads better fails with a hint naming the folder it belongs in.
    """
    known = t.header_map()
    best: tuple[int, Row] | None = None
    scanned: list[Row] = []
    for row_no, row in rows:
        if hidden and row_no in hidden:
            continue
        scanned.append(row)
        if _is_header(known, [norm_header(as_text(c)) for c in row]):
            best = (row_no, row)
            break
        if len(scanned) >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise HeaderError(
            "NO_HEADER",
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows: expected columns like "
            + ", ".join(f.name for f in t.fields) + wrong_folder_hint(t, scanned),
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
        if f is None and key == REASON_KEY and not t.creates_only:  # (a campaign keeps it with the customer)
            continue
        if f is None:
            unknown.append(text)
            unknown_columns.append((idx, text))
        elif f.name in seen:
            raise HeaderError("DUPLICATE_COLUMN", f"column {f.name} appears twice in the header row {row_no}")
        else:
            seen.add(f.name)
            columns.append((idx, f))
    problem = header_problem(t, seen)
    if problem:
        raise HeaderError("MISSING_COLUMN", f"{problem} (header row {row_no})" + wrong_folder_hint(t, [row], own=True))
    if not t.creates_only and unknown:  # the columns this type ignores may say the file is another type's
        hint = wrong_folder_hint(t, [row], own=True)
        if hint:
            mine = _plural(t.label)
            raise HeaderError("WRONG_FOLDER", f"the header row {row_no} fits another import type better than {mine}"
                              f"{hint}; if it really is a file of {mine}, remove or rename the "
                              f"column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    return HeaderMap(row_no, columns, unknown, unknown_columns)


def _is_header(known: dict[str, Field], cells: list[str]) -> bool:
    """A row is a header row of a type when it holds two of its columns, a mandatory one, or only one cell."""
    hits = [c for c in cells if c in known]
    return bool(hits) and (len(hits) >= 2 or any(known[c].mandatory for c in hits) or len([c for c in cells if c]) == 1)


def header_problem(t: ItemType, names: set[str]) -> str | None:
    """What a header holding the columns ``names`` lacks for type ``t`` (None: it can be imported)."""
    create = [f.name for f in t.fields if f.mandatory]
    if t.creates_only:
        missing = [n for n in create if n not in names]
        if missing:
            return f"mandatory column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing"
        return None
    if t.mandatory_any and not create and any(n in names for n in t.mandatory_any):
        return None  # every row creates (a Directory without ExternalId)
    if any(all(n in names for n in ident) for ident in t.identification):
        return None
    idents = [" and ".join(i) for i in t.identification]
    needs = ", ".join(idents[:-1]) + (" or " if len(idents) > 1 else "") + idents[-1]
    if t.mandatory_any and not create:
        needs += f" (or {_either(list(t.mandatory_any))}, to create new ones)"
    return f"no column that identifies a {t.label}: the header needs {needs}"


def wrong_folder_hint(t: ItemType | None, rows: Sequence[Row], own: bool = False, single: bool = False) -> str:
    """``'; this looks like ...'`` naming the folder of the import type that reads one of ``rows`` as its
    header better than ``t`` does (``t`` None: any import type), or ``''``. ``own``: ``rows`` is ``t``'s header row, and when ``t`` could
    import it the other type must know every column ``t`` knows and more (a Skills file with a stray column
    stays a Skills file). ``single``: only a hint naming one type (a sheet of names fits five types).
    """
    best: list[ItemType] = []
    score = 0
    for row in rows:
        cells = [norm_header(as_text(c)) for c in row]
        mine = _fit(t, cells) if t is not None else None
        for x in HINT_TYPES:
            if t is not None and x.key == t.key:
                continue
            fit = _fit(x, cells)
            if fit is None or not fit or (own and mine is not None and not fit > mine):
                continue
            if len(fit) > score:
                best, score = [x], len(fit)
            elif len(fit) == score and x not in best:
                best.append(x)
    if not best or (single and len(best) > 1):
        return ""
    if len(best) == 1:
        return "; " + _home(best[0])
    folders = [x.folder or "Configuration" for x in best]
    return (f"; this looks like a file of {_either([_plural(x.label) for x in best])}: drop it into the "
            f"{_either(folders)} folder, whichever it holds")


def sheet_hint(t: ItemType | None, rows: Iterator[tuple[int, Row]], hidden: Set[int] = frozenset()) -> str:
    """``wrong_folder_hint`` naming one type, over the first rows of a sheet that is not read further (its
    ``hidden`` rows left out)."""
    shown = (row for n, row in rows if n not in hidden)
    return wrong_folder_hint(t, list(islice(shown, HEADER_SEARCH_ROWS)), single=True)


def _fit(t: ItemType, cells: list[str]) -> frozenset[int] | None:
    """The cells ``t`` would read from a header row (Id and Delete left out), or None if it is not ``t``'s header."""
    known = t.header_map()
    if not _is_header(known, cells):
        return None
    names = {known[c].name for c in cells if c in known}
    if header_problem(t, names):
        return None
    return frozenset(i for i, c in enumerate(cells) if c in known and known[c] is not DELETE and known[c].name != "Id")


def _home(x: ItemType) -> str:
    if x.folder is None:
        return (f"this looks like a {x.sheet} sheet: {x.sheet} import through the Configuration folder, "
                f"as a sheet named {x.sheet} of an .xlsx workbook")
    also = f", or put it in a Configuration workbook as a sheet named {x.sheet}" if x.config_order is not None else ""
    return f"this looks like a file of {_plural(x.label)}: drop it into the {x.folder} folder{also}"


def _either(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def _plural(label: str) -> str:
    return label[:-1] + "ies" if label.endswith("y") else label + "s"
