"""Cell parsing per field kind: raw cell in, stored value out, or a clear reason."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from aimport.itemtypes.schema import Field
from aimport.readers.base import CellError

EXCEL_EPOCH = dt.date(1899, 12, 30)
DAY_RE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
HOURS_PART = re.compile(
    rf"^{DAY_RE}(-{DAY_RE})?\s+([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$", re.IGNORECASE
)


class Invalid(ValueError):
    """A cell value is not acceptable; the message says why."""


def show(text: str, limit: int = 60) -> str:
    """A cell value quoted for a .log reason, shortened when long (a cell may hold 32,767 characters)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def as_text(raw: Any) -> str:
    """Text of a cell: numbers without a spurious ``.0``, dates as ISO."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "Yes" if raw else "No"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() and abs(raw) < 1e15 else repr(raw)
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return str(raw).strip()


DATE_ORDERS = ("auto", "DMY", "MDY", "YMD")
_DATE_ORDER: ContextVar[str] = ContextVar("aimport_date_order", default="auto")
TEXT_DATE = re.compile(r"(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


@contextmanager
def date_order(order: str) -> Iterator[None]:
    """Read text dates in this order (``date_order`` setting) while the block runs."""
    token = _DATE_ORDER.set(order)
    try:
        yield
    finally:
        _DATE_ORDER.reset(token)


def _year(text: str) -> int:
    """A written year; two digits follow the spreadsheet programs' rule: 00-29 -> 20xx, 30-99 -> 19xx."""
    y = int(text)
    if len(text) == 2:
        return y + (2000 if y < 30 else 1900)
    return y


def _day(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _text_date(text: str, order: str) -> str | None:
    """A date written with ``/``, ``.`` or ``-`` separators, read in ``order``; None: not such a date."""
    m = TEXT_DATE.fullmatch(text)
    if m is None:
        return None
    a, sep, b, c = m.group(1), m.group(2), m.group(3), m.group(4)
    if len(a) == 4 and len(c) <= 2:  # YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD: the year comes first
        found = _day(int(a), int(b), int(c))
    elif len(a) > 2 or len(c) not in (2, 4):
        found = None
    elif order == "YMD" and len(c) == 2:
        found = _day(_year(a), int(b), int(c))
    elif order == "DMY" or (order in ("auto", "YMD") and sep == "."):  # dots: day first, as DD.MM.YYYY always was
        found = _day(_year(c), int(b), int(a))
    elif order == "MDY":
        found = _day(_year(c), int(a), int(b))
    else:  # auto with / or -: the readings that make a date
        dmy, mdy = _day(_year(c), int(b), int(a)), _day(_year(c), int(a), int(b))
        if dmy and mdy and dmy != mdy:
            raise Invalid(f"{show(text)} is ambiguous: {dmy.isoformat()} (day first) or {mdy.isoformat()} "
                          "(month first); set date_order to DMY or MDY, or write YYYY-MM-DD")
        found = dmy or mdy
    if found is None:
        raise Invalid(f"{show(text)} is not a date (use YYYY-MM-DD)")
    return found.isoformat()


def parse_date(raw: Any, order: str | None = None) -> str:
    """A cell as an ISO date: real dates, Excel serials, YYYYMMDD and text dates (see ``_text_date``)."""
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not 1 <= raw < 2958466:
            raise Invalid(f"{raw} is not a valid Excel date serial")
        return (EXCEL_EPOCH + dt.timedelta(days=int(raw))).isoformat()
    text = as_text(raw)
    if re.fullmatch(r"\d{1,7}(\.0+)?", text):
        return parse_date(float(text))
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            pass
    found = _text_date(text, order or _DATE_ORDER.get())
    if found is None:
        raise Invalid(f"{show(text)} is not a date (use YYYY-MM-DD)")
    return found


PHONE_NOISE = re.compile(r"[\s\-\(\)\./]")
PHONE_OK = re.compile(r"\+?[0-9*#]{2,32}")


def normalise_phone(text: str) -> str:
    s = PHONE_NOISE.sub("", text)
    if s.startswith("00"):
        s = "+" + s[2:]
    if not PHONE_OK.fullmatch(s):
        raise Invalid(f"{show(text)} is not a phone number")
    return s


def split_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def parse(f: Field, raw: Any) -> Any:
    """Parse one non-empty cell for field ``f``."""
    if type(raw) is CellError:  # never data: a failed formula must not change a stored value
        raise Invalid(f"the cell holds the error value {raw} (a formula that failed, e.g. a lookup that "
                      "found nothing): fix the formula or clear the cell")
    kind = f.kind
    if kind == "date":
        return parse_date(raw)
    text = as_text(raw)
    if f.max_length is not None and len(text) > f.max_length:
        raise Invalid(f"is {len(text)} characters long, the limit is {f.max_length}")
    if kind == "text":
        return text
    if kind == "int":
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
        return "Yes" if value else "No"
    if f.kind in ("refs", "list"):
        return ";".join(value)
    if f.kind == "levels":
        return ";".join(f"{n}:{lvl}" for n, lvl in value)
    return as_text(value)
