"""The fast paths of phone numbers written ``+`` / ``00`` and digits: the common case, in a few microseconds.

:func:`plain_international` gives what :mod:`aimport.itemtypes.phones`'s full path gives for such a cell (it
uses the library's own metadata and prefix rule), or None to leave the cell to the full path, which also gives
the reasons; :func:`canonical_column` checks a whole column already in E.164 with one regular expression.
``tests/test_phones.py`` checks both against the full path for every country code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import ValidationResult
from phonenumbers import phonenumberutil as pnu

__all__ = ["canonical_column", "plain_international"]


def plain_international(text: str) -> str | None:
    """The E.164 of a cell that is ``+`` or ``00`` and digits (spaces and dashes between them allowed) when it is a
    possible number that needs nothing more (the common case: ``+358 40 123 4567``); None: take the full path,
    which also gives the reasons.

    It does what ``phonenumbers.parse`` + ``is_possible_number_with_reason`` + ``format_number(E164)`` do for such
    a text, with the library's own functions and metadata but without its handling of free text (extensions,
    letters, punctuation, RFC 3966), about three times faster; ``tests/test_phones.py`` checks it gives the same
    answer as the full path for numbers of every country code.
    """
    compact = text.replace(" ", "").replace("-", "")
    if compact[:1] == "+":
        digits = compact[1:]
    elif compact[:2] == "00":
        digits = compact[2:]
    else:
        return None
    if not (digits.isascii() and digits.isdigit()) or digits[:1] in ("", "0"):
        return None
    for size in (1, 2, 3):
        if digits[:size] in _CALLING_CODES:
            break
    else:
        return None
    cc, nsn = digits[:size], digits[size:]
    country = _country(cc)
    if country.prefix is not None and country.prefix.match(nsn):
        return _stripped_international(int(cc), nsn)
    # no trunk prefix to strip: whether the number is possible depends on its length alone
    if len(nsn) in country.possible and nsn.strip("0") and not nsn.startswith(country.trunk or "\x00"):
        return f"+{cc}{nsn}"
    return None


def canonical_column(cells: list[str]) -> bool:
    """Whether every cell of a column (stripped, non-empty) is already what :func:`plain_international` returns
    for it: ``+``, one country's calling code and a possible national number, no spaces. Checked with one
    regular expression over the joined column (C speed), for the country of the first cell; False: look at
    the cells one by one."""
    first = cells[0] if cells else ""
    if first[:1] != "+":
        return False
    digits = first[1:4]
    cc = next((digits[:n] for n in (1, 2, 3) if digits[:n] in _CALLING_CODES), None)
    if cc is None:
        return False
    pattern = _column_pattern(cc)
    return pattern is not None and pattern.fullmatch("\x00".join(cells)) is not None


@cache
def _column_pattern(cc: str) -> re.Pattern[str] | None:
    """``+<cc><national number>`` cells joined by NUL, each as :func:`plain_international` takes it unchanged."""
    country = _country(cc)
    if not country.possible:
        return None
    lengths = "|".join(rf"\d{{{n}}}" for n in sorted(country.possible, reverse=True))
    refuse = [r"0*(?:\x00|\Z)"]  # a national number of zeros only
    if country.prefix is not None:
        refuse.append(f"(?:{country.prefix.pattern})")
    if country.trunk:
        refuse.append(re.escape(country.trunk))
    one = rf"\+{cc}(?!{'|'.join(refuse)})(?:{lengths})(?=\x00|\Z)"
    return re.compile(rf"{one}(?:\x00{one})*")


@dataclass(frozen=True)
class _Country:
    """What the fast path needs of a calling code's metadata."""

    prefix: re.Pattern[str] | None  # national_prefix_for_parsing: a national number that begins with it
    trunk: str  # the national (trunk) prefix ("" none)
    possible: frozenset[int]  # the lengths a possible national significant number has


_CALLING_CODES = frozenset(str(cc) for cc in pnu.COUNTRY_CODE_TO_REGION_CODE)


@cache
def _country(cc: str) -> _Country:
    meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(int(cc), pnu.region_code_for_country_code(int(cc)))
    if meta is None:
        return _Country(None, "", frozenset())
    possible = frozenset(n for n in range(pnu._MIN_LENGTH_FOR_NSN, pnu._MAX_LENGTH_FOR_NSN + 1)
                         if pnu._test_number_length("1" * n, meta) == ValidationResult.IS_POSSIBLE)
    prefix = re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None
    return _Country(prefix, meta.national_prefix or "", possible)


def _stripped_international(cc: int, nsn: str) -> str | None:
    """The fast path's answer when the national number begins like the trunk prefix (as parse strips it)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(cc, pnu.region_code_for_country_code(cc))
    if meta is None or len(nsn) < pnu._MIN_LENGTH_FOR_NSN:
        return None
    _, stripped, _ = pnu._maybe_strip_national_prefix_carrier_code(nsn, meta)
    if pnu._test_number_length(stripped, meta) not in _NOT_VIABLE:
        nsn = stripped
    if not pnu._MIN_LENGTH_FOR_NSN <= len(nsn) <= pnu._MAX_LENGTH_FOR_NSN or not nsn.strip("0"):
        return None
    if pnu._test_number_length(nsn, meta) != ValidationResult.IS_POSSIBLE:
        return None
    if meta.national_prefix and nsn.startswith(meta.national_prefix):
        return None  # the trunk prefix kept: the full path decides (_trunk_kept)
    return f"+{cc}{nsn}"


_NOT_VIABLE = (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY, ValidationResult.INVALID_LENGTH)
