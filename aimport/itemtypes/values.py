"""Cell parsing per field kind: raw cell in, stored value out, or a clear reason."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Callable

from aimport.itemtypes.schema import Field

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


def parse_date(raw: Any) -> str:
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
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise Invalid(f"{show(text)} is not a date (use YYYY-MM-DD)")


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
