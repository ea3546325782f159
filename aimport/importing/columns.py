"""Column-at-a-time parsing of a block of rows: the staging fast path.

A block (up to 2000 rows) is transposed into columns with C-level builtins
(``itemgetter``, ``zip``, ``map``) and each column is checked as a whole:
stripped and length-checked; phone numbers go through phonenumbers cell by cell (cached).
Only when every cell of the block is acceptable as it stands does the block
take this path; any block with a cell that needs rejecting, a Delete flag or
an unusual value raises :class:`Slow`, and the caller parses that block row by
row (``Stage._parse_row``), which logs the reasons exactly as before. So the
result (staged tuples, REJECT lines) is the same either way; this path only
makes the common case about five times cheaper.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from aimport.importing.headers import HeaderMap
from aimport.itemtypes.phonefast import canonical_column, plain_international
from aimport.itemtypes.schema import DELETE, Field, ItemType
from aimport.itemtypes.values import FAST_TEXT, Invalid, parse

STR_ONLY = {str}
NUMBER_TYPES = (int, float)


class Slow(Exception):
    """The block needs the row-by-row path (a rejection to log, a Delete flag, ...)."""


def parse_block(t: ItemType, header: HeaderMap, nos: Sequence[int], rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    """Staged tuples ``(row_no, del, v0..vn)`` for every row of the block, or raise Slow."""
    idxs = [i for i, _ in header.columns]
    need = max(idxs) + 1
    if min(map(len, rows)) < need:  # short rows: missing cells are empty, as in _parse_row
        rows = [r + [None] * (need - len(r)) if len(r) < need else r for r in rows]
    # one C-level pass per column (a row tuple per row through itemgetter(*idxs) costs three times as much);
    # a header that takes every column in order transposes the block at once
    columns: list[Sequence[Any]] = (
        list[Sequence[Any]](zip(*rows))[:need] if idxs == list(range(need))
        else [list(map(itemgetter(i), rows)) for i in idxs]
    )
    values: dict[str, list[Any]] = {}
    for (_, f), col in zip(header.columns, columns):
        if f is DELETE:
            if any(c is not None and (type(c) is not str or c.strip()) for c in col):
                raise Slow  # a Delete flag (or junk in the column): row by row
            continue
        values[f.name] = _column(f, col)
    for name in header.mandatory:
        if None in values[name]:
            raise Slow
    if t.mandatory_any:
        present = [values[n] for n in t.mandatory_any if n in values]
        if not present or not all(map(any, zip(*present))):
            raise Slow
    if t.row_check is not None:
        names = list(values)
        for vals in zip(*values.values()):
            if t.row_check({n: v for n, v in zip(names, vals) if v is not None}):
                raise Slow
    staged = [
        [None if v is None else json.dumps(v) for v in values[name]] if is_list else values[name]
        for name, is_list in header.staged
    ]
    return list(zip(nos, repeat(0), *staged))


def _column(f: Field, col: Sequence[Any]) -> list[Any]:
    """Parsed values of one column (None for empty cells), or raise Slow."""
    kind = f.kind
    if kind in ("text", "ref") and set(map(type, col)) == STR_ONLY:
        stripped = list(map(str.strip, col))
        if "\x00" in "".join(stripped):
            raise Slow  # a NUL character: a rejected row (Stage._parse_row says where)
        if f.max_length is not None and max(map(len, stripped)) > f.max_length:
            raise Slow
        return [s or None for s in stripped] if "" in stripped else stripped
    if kind == "phone" and set(map(type, col)) == STR_ONLY:
        # numbers written with + or 00 and digits (the common case) in one pass; any other cell: cell by cell
        stripped = list(map(str.strip, col))
        filled = [s for s in stripped if s]
        if canonical_column(filled):  # already +<country><number>, each possible: as they stand
            return [s or None for s in stripped] if len(filled) < len(stripped) else stripped
        numbers = [plain_international(s) if s else None for s in stripped]
        if all(n is not None or not s for n, s in zip(numbers, stripped)):
            return numbers
    return _cells(f, col)


def _cells(f: Field, col: Sequence[Any]) -> list[Any]:
    """Cell by cell, exactly as _parse_row does it; an invalid cell makes the block Slow."""
    fast = FAST_TEXT.get(f.kind)
    if f.kind == "phone" and any(type(c) in NUMBER_TYPES for c in col):
        raise Slow  # a phone from a number cell: a WARNING naming its row (Stage._parse_row)
    out: list[Any] = []
    append = out.append
    try:
        for raw in col:
            if raw is None:
                append(None)
                continue
            if type(raw) is str:
                text = raw.strip()
                if not text:
                    append(None)
                    continue
                if "\x00" in text:
                    raise Slow
                if fast is not None:
                    append(fast(f, text))
                    continue
            append(parse(f, raw))
    except Invalid:
        raise Slow from None
    return out
