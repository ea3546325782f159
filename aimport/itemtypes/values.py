"""Cell parsing per field kind: raw cell in, stored value out, or a clear reason."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from aimport.itemtypes import phones
from aimport.itemtypes.dates import parse_date
from aimport.itemtypes.invalid import Invalid, show
from aimport.itemtypes.schema import Field
from aimport.readers.base import CellError, Shown

DAY_RE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
HOURS_PART = re.compile(
    rf"^{DAY_RE}(-{DAY_RE})?\s+([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$", re.IGNORECASE
)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


LOST_PRECISION = ("long ids and numbers must be stored as text in the sheet: a number cell keeps 15 significant "
                  "digits, so this one may already have lost digits (format the column as Text and type it again)")
EXACT_DIGITS = 1e15  # a whole number from here on has 16+ digits: Excel keeps 15, the rest may be gone


def general(number: float | int) -> str:
    """A number as Excel's General format shows it: up to 15 significant digits, no ``.0``, no float noise
    (``0.30000000000000004`` -> ``0.3``); plain decimal notation (a number of 16+ digits: see ``shown_number``)."""
    if isinstance(number, int):
        return str(number)
    if number != number or number in (float("inf"), float("-inf")):
        return repr(number)
    if number.is_integer() and abs(number) < EXACT_DIGITS:
        return str(int(number))
    text = format(Decimal(f"{number:.15g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown_number(number: float | int) -> str:
    """A number cell read as text (text, phone and id columns): its General display, or Invalid when the number
    has 16+ digits (Excel shows it as ``1.23457E+15`` and has kept only 15 of them)."""
    if abs(number) >= EXACT_DIGITS:
        raise Invalid(f"the number cell {number:.15G} cannot be read as text: {LOST_PRECISION}")
    return general(number)


def as_text(raw: Any) -> str:
    """Text of a cell as a person sees it: numbers in General display, TRUE/FALSE, dates as ISO.

    Lenient (headers, settings cells): a number of 16+ digits gives its 15 kept digits; ``parse`` rejects it.
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if type(raw) is Shown:
        return str.__str__(raw).strip()
    if isinstance(raw, float):
        return general(raw) if abs(raw) < EXACT_DIGITS else f"{raw:.15g}"
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return str(raw).strip()


@dataclass
class ValueNotes:
    """What reading one file's cells noticed that the ``.log`` and ``.result`` report (not per-cell errors)."""

    phone_region: str = ""
    national_phones: int = 0  # national numbers kept as digits because no phone_region is set
    from_numbers: list[tuple[str, str]] = field(default_factory=list)  # (column, stored) phones read from number cells


_NOTES: ContextVar[ValueNotes | None] = ContextVar("aimport_value_notes", default=None)


@contextmanager
def phone_reading(region: str) -> Iterator[ValueNotes]:
    """Read phone numbers for ``region`` (setting ``phone_region``; "" none) while the block runs; the notes
    collect what the work log reports."""
    notes = ValueNotes(region)
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def values_read() -> ValueNotes:
    """The notes of the cells read so far (those of ``phone_reading``'s block, or of this context)."""
    notes = _NOTES.get()
    if notes is None:
        notes = ValueNotes()
        _NOTES.set(notes)
    return notes


def normalise_phone(text: str) -> str:
    """A phone cell's text in its stored form (E.164, or national digits without ``phone_region``)."""
    notes = values_read()
    try:
        stored = phones.normalise_phone(text, notes.phone_region)
    except phones.PhoneError as exc:
        raise Invalid(str(exc)) from None
    if not notes.phone_region and phones.is_national(stored):
        notes.national_phones += 1
    return stored


def phone_of_number(f: Field, number: float | int) -> str:
    """A phone read from a number cell: whole numbers only; its leading 0 or + may be gone (noted)."""
    if isinstance(number, float) and not number.is_integer():
        raise Invalid(f"the number cell {general(number)} is a fractional number, not a phone number: "
                      "type phone numbers as text (format the column as Text)")
    if abs(number) >= EXACT_DIGITS:
        raise Invalid(f"the number cell {number:.15G} cannot be a phone number: {LOST_PRECISION}")
    notes = values_read()
    try:
        stored = phones.phone_from_number(int(number), notes.phone_region)
    except phones.PhoneError as exc:
        raise Invalid(str(exc)) from None
    notes.from_numbers.append((f.name, stored))
    if not notes.phone_region and phones.is_national(stored):
        notes.national_phones += 1
    return stored


def split_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


NUMBER_KINDS = frozenset({"date", "dates", "int", "bool"})  # kinds that read a number cell's number, not its text


def parse(f: Field, raw: Any) -> Any:
    """Parse one non-empty cell for field ``f``."""
    if type(raw) is CellError:  # never data: a failed formula must not change a stored value
        raise Invalid(f"the cell holds the error value {raw} (a formula that failed, e.g. a lookup that "
                      "found nothing): fix the formula or clear the cell")
    kind = f.kind
    if type(raw) is Shown:  # a number cell as its format shows it: the text for text kinds, else the number
        if kind in NUMBER_KINDS:
            raw = raw.value
        elif kind == "phone" and not float(raw.value).is_integer():
            return phone_of_number(f, raw.value)  # a fractional number: rejected there
    elif type(raw) in (int, float) and kind not in NUMBER_KINDS:
        if kind == "phone":
            return phone_of_number(f, raw)
        raw = shown_number(raw)
    if kind == "date":
        return parse_date(raw)
    text = as_text(raw)
    if f.max_length is not None and len(text) > f.max_length:
        raise Invalid(f"is {len(text)} characters long, the limit is {f.max_length}")
    if kind == "text":
        return text
    if kind == "int":
        if type(raw) is float and (not raw.is_integer() or abs(raw) >= EXACT_DIGITS):
            raise Invalid(f"{general(raw) if abs(raw) < EXACT_DIGITS else f'{raw:.15g}'} is "
                          + ("not a whole number" if raw.is_integer() is False else "too large a number"))
        if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            raise Invalid(f"{show(text)} is not a whole number")
        whole = text.split(".")[0]
        if len(whole.lstrip("+-")) > 18:
            raise Invalid(f"{show(text)} is too large a number")
        value = int(whole)
        if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
            raise Invalid(f"{value} is outside {f.min}..{f.max}")
        return value
    if kind == "enum":
        for c in f.choices:
            if c.lower() == text.lower():
                return c
        raise Invalid(f"{show(text)} is not one of {', '.join(f.choices)}")
    if kind == "bool":
        low = text.lower()
        if low in ("yes", "y", "true", "1", "x"):
            return 1
        if low in ("no", "n", "false", "0"):
            return 0
        raise Invalid(f"{show(text)} is not Yes or No")
    if kind == "timezone":
        if text not in _zones():
            raise Invalid(f"{show(text)} is not an IANA time zone (for example Europe/Helsinki)")
        return text
    if kind == "hours":
        parts = split_list(text)
        for p in parts:
            if not HOURS_PART.match(p):
                raise Invalid(f"{show(p)} is not like 'Mon-Fri 08:00-17:00'")
        return "; ".join(parts)
    if kind == "dates":
        return "; ".join(parse_date(p) for p in split_list(text))
    if kind == "phone":
        return normalise_phone(text)
    if kind == "ref":
        return text
    if kind == "refs":
        return list(dict.fromkeys(split_list(text)))  # a name listed twice counts once
    if kind == "list":
        out = []
        for p in split_list(text):
            match = [c for c in f.choices if c.lower() == p.lower()]
            if not match:
                raise Invalid(f"{show(p)} is not one of {', '.join(f.choices)}")
            if match[0] not in out:
                out.append(match[0])
        return out
    if kind == "levels":
        out_levels: list[Any] = []
        for p in split_list(text):
            name, _, level = p.rpartition(":")
            if not name:
                name, level = p, "1"
            if not re.fullmatch(r"\d+", level.strip()) or not 1 <= int(level) <= 10:
                raise Invalid(f"{show(p)}: the level must be a number 1..10 (name:level)")
            seen = [x for x in out_levels if x[0] == name.strip()]
            if seen and seen[0][1] != int(level):
                raise Invalid(f"{show(name.strip())} is listed twice with different levels")
            if not seen:
                out_levels.append([name.strip(), int(level)])
        return out_levels
    raise Invalid(f"unknown field kind {kind}")


def _text(f: Field, text: str) -> str:
    if f.max_length is not None and len(text) > f.max_length:
        raise Invalid(f"is {len(text)} characters long, the limit is {f.max_length}")
    return text


def _phone(f: Field, text: str) -> str:
    return normalise_phone(text)


# Converters for stripped, non-empty text cells of the commonest kinds (the staging fast path).
FAST_TEXT: dict[str, Callable[[Field, str], Any]] = {"text": _text, "phone": _phone}


def format_value(f: Field, value: Any) -> str:
    """The cell text aimport writes for a stored value (exports, templates)."""
    if value is None:
        return ""
    if f.kind == "bool":
        return "Yes" if value else "No"  # what aimport writes for a Yes/No column (reads TRUE/FALSE, 1/0 too)
    if f.kind in ("refs", "list"):
        return ";".join(value)
    if f.kind == "levels":
        return ";".join(f"{n}:{lvl}" for n, lvl in value)
    return as_text(value)
