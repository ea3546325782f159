"""Dates in cells: real dates, Excel serials, YYYYMMDD and text dates in the ``date_order`` setting's order."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aimport.itemtypes.invalid import Invalid, show

__all__ = ["DATE_ORDERS", "EXCEL_EPOCH", "date_order", "parse_date"]

EXCEL_EPOCH = dt.date(1899, 12, 30)

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
    text = str(raw).strip()
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
