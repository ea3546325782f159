"""What a sheet part's layout says beside its values: hidden rows, number-formatted cells, pivot tables.

One pass over the sheet part's bytes (:func:`scan_hints`, while calamine loads the sheet on the other core)
reads it whole, so zip damage in it is found (its CRC is checked at the end), and looks for cheap hints:
an error cell, a hidden row, a cell whose style has a number format worth rendering. Only a hint found
makes the sheet be looked at closely, and then by regular expressions over the bytes (C speed) that
stop at the matching tags only: :func:`hidden_rows`, :func:`formatted_cells`. Rows or cells written without
their ``r`` reference (no spreadsheet program does that) fall back to a full parse.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from defusedxml import ElementTree

from aimport.readers.package import open_part, related
from aimport.readers.xlsxparts import ERROR_HINTS

__all__ = ["Area", "Hints", "formatted_cells", "hidden_rows", "pivot_tables", "scan_hints"]

HIDDEN_HINTS = (b'hidden="1"', b'hidden="true"')
NOREF_HINTS = (b"<c>", b"<c s=", b"<c t=")  # a cell whose first attribute is not its reference
CHUNK = 1 << 20
ROW_HIDDEN = re.compile(rb'<(?:\w+:)?row\b[^>]*?\shidden="(?:1|true)"[^>]*>')
R_ROW = re.compile(rb'\sr="(\d+)"')
REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?")


@dataclass(frozen=True)
class Hints:
    """What the sheet part's bytes may hold (found: look closely; not found: it surely does not)."""

    errors: bool = False
    hidden: bool = False
    styled: bool = False  # a cell with one of the styles asked about
    norefs: bool = False  # a cell tag without its reference (r first, as every writer puts it): parse, not match


@dataclass(frozen=True)
class Area:
    """A rectangle of the sheet: rows 1-based, columns 0-based, both inclusive."""

    name: str
    ref: str
    first_row: int
    last_row: int
    first_col: int
    last_col: int


def col_index(letters: bytes | str) -> int:
    """0-based column index of ``A``..``XFD``."""
    n = 0
    for ch in (letters.decode() if isinstance(letters, bytes) else letters).upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _style_pattern(styles: Collection[int]) -> re.Pattern[bytes] | None:
    if not styles:
        return None
    return re.compile(rb' s="(?:' + b"|".join(str(s).encode() for s in sorted(styles)) + rb')"')


def scan_hints(zf: zipfile.ZipFile, part: str, styles: Collection[int] = ()) -> Hints:
    """Read the whole part (zip damage raises ReadError) and say which hints its bytes hold."""
    styled_re = _style_pattern(styles)
    errors = hidden = styled = norefs = False
    tail = b""
    with open_part(zf, part) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            window = tail + chunk
            errors = errors or any(h in window for h in ERROR_HINTS)
            hidden = hidden or any(h in window for h in HIDDEN_HINTS)
            if styled_re is not None and not styled:
                styled = styled_re.search(window) is not None
                norefs = norefs or any(h in window for h in NOREF_HINTS)
            tail = chunk[-32:]
    return Hints(errors, hidden, styled, norefs)


def _tags(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's bytes in pieces that end before a ``<``: no tag is cut in two."""
    rest = b""
    with open_part(zf, part) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            window = rest + chunk
            cut = window.rfind(b"<")
            if cut <= 0:
                rest = window
                continue
            yield window[:cut]
            rest = window[cut:]
    if rest:
        yield rest


class _NoRef(Exception):
    """A row or cell without its ``r`` reference: count rows and cells with a full parse."""


def hidden_rows(zf: zipfile.ZipFile, part: str) -> frozenset[int]:
    """1-based numbers of the rows marked hidden (by a filter, by hand, in a collapsed outline)."""
    found: set[int] = set()
    try:
        for piece in _tags(zf, part):
            for m in ROW_HIDDEN.finditer(piece):
                r = R_ROW.search(m.group(0))
                if r is None:
                    raise _NoRef
                found.add(int(r.group(1)))
    except _NoRef:
        return _parse(zf, part, set())[0]
    return frozenset(found)


def formatted_cells(zf: zipfile.ZipFile, part: str, styles: Collection[int],
                    refs: bool = True) -> dict[int, list[tuple[int, int]]]:
    """Row index -> ``(column index, style index)`` (0-based) of the number cells having one of ``styles``.

    One regular expression finds such a cell tag and its reference (``<c r="B2" s="3">``, not a text, boolean or
    error cell: ``t`` absent or ``n``); ``refs`` False (:attr:`Hints.norefs`): cells without references, parsed.
    """
    if not refs:
        cells = _parse(zf, part, set(styles))[1]
        out: dict[int, list[tuple[int, int]]] = {}
        for (r, c), s in cells.items():
            out.setdefault(r, []).append((c, s))
        return out
    alts = b"|".join(str(s).encode() for s in sorted(styles))
    pattern = re.compile(rb'<(?:\w+:)?c(?=\s)(?=[^>]*?\sr="([A-Za-z]{1,3})(\d+)")(?=[^>]*?\ss="(' + alts + rb')")'
                         rb'(?![^>]*?\st="[^n"])')
    found: dict[int, list[tuple[int, int]]] = {}
    cols: dict[bytes, int] = {}
    for piece in _tags(zf, part):
        for letters, row, s in pattern.findall(piece):
            col = cols.get(letters)
            if col is None:
                col = cols[letters] = col_index(letters)
            r = int(row) - 1
            if r in found:
                found[r].append((col, int(s)))
            else:
                found[r] = [(col, int(s))]
    return found


def _parse(zf: zipfile.ZipFile, part: str, styles: set[int]) -> tuple[frozenset[int], dict[tuple[int, int], int]]:
    """Hidden rows and number-formatted cells by a full parse (rows and cells numbered as they come)."""
    hidden: set[int] = set()
    cells: dict[tuple[int, int], int] = {}
    row, col = -1, -1
    with open_part(zf, part) as fh:
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = el.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    row, col = (int(r) - 1 if r and r.isdigit() else row + 1), -1
                    if el.get("hidden", "").lower() in ("1", "true"):
                        hidden.add(row + 1)
                elif tag == "c":
                    m = re.fullmatch(r"([A-Za-z]{1,3})(\d+)", el.get("r") or "")
                    col = col_index(m.group(1)) if m else col + 1
                    row = int(m.group(2)) - 1 if m else row
                    s = el.get("s", "")
                    if s.isdigit() and int(s) in styles and el.get("t", "n") in ("n", ""):
                        cells[(row, col)] = int(s)
            elif tag == "row":
                el.clear()
    return frozenset(hidden), cells


def _area(name: str, ref: str) -> Area | None:
    m = REF.fullmatch(ref.strip())
    if not m:
        return None
    c1, r1 = col_index(m.group(1)), int(m.group(2))
    c2, r2 = (col_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return Area(name, ref, min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2))


def pivot_tables(zf: zipfile.ZipFile, part: str) -> list[Area]:
    """The cells of the sheet's pivot tables: each one's location, with its page filters above it."""
    out = []
    for root in related(zf, part, "/pivotTable"):
        loc = next((el for el in root.iter() if el.tag.rpartition("}")[2] == "location"), None)
        area = _area(root.get("name", ""), loc.get("ref", "")) if loc is not None else None
        if area is None or loc is None:
            continue
        pages = int(loc.get("rowPageCount", "0") or 0)
        if pages:  # the page (report) filters: one row each, a blank row above the table
            area = Area(area.name, area.ref, max(1, area.first_row - pages - 1), area.last_row, area.first_col,
                        max(area.last_col, area.first_col + 2 * int(loc.get("colPageCount", "1") or 1) - 1))
        out.append(area)
    return out
