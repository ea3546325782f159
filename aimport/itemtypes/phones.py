"""Phone numbers: a cell's text (or number) in, the stored canonical form out, or a reason a person can act on.

The stored form is E.164 (``+358401234567``) for every international number (written with ``+`` or ``00``)
and, with a ``phone_region`` (two-letter region, e.g. FI), for every national number too (``040 123 4567``,
``(040) 1234567``, ``040-1234567``, German ``030/12345678`` are read as numbers of that region). Without a
region a national number is kept as its digits (``0401234567``): nothing says which country it belongs to.
A trunk prefix written after the country code (``+358 (0)40 ...``, ``+44 (0)20 ...``) is dropped; Italian
numbers keep their leading 0 (``+39 06 ...``), as the numbering plan wants. Because a blocked number and a
customer's number go through the same function with the same region, they compare equal however written.

Decisions:

* A number must be *possible* (phonenumbers ``is_possible_number_with_reason``: the right length for its
  country, a country code that exists); it need not be *valid* (in a known number range), because
  phonenumbers' metadata lags behind newly opened ranges and a real number must not be rejected for that.
* Rejected, each with its own reason: two or more numbers in one cell (parts split by ``/ , ; | &``, a line
  break, ``or``/``and``..., where at least two parts are numbers of 7 or more digits on their own; a ``/``
  after an area code of at most 6 digits, ``030/12345678``, is one number), an extension (``ext. 12``,
  ``x12``, ``;ext=12``, ``#12``), letters (vanity numbers such as ``1-800-FLOWERS``), other characters, and
  numbers that are too short, too long, local-only (no area code) or have no valid country code.
* A short number of the region (``112``, ``116 123``: phonenumbers' short-number metadata) is kept as its
  digits, as are national numbers without a region (3 to 17 digits).
* Service codes (USSD and star codes such as ``*100#`` or ``#31#``: beginning with ``*`` or ``#`` and made
  of digits, ``*`` and ``#``, at most 32) are kept as written without spaces or dashes, as the old
  normalisation did; a ``*`` or ``#`` anywhere else is rejected (``#12`` after a number is an extension).
* Results are cached (a file may hold 200,000 numbers, and a campaign re-uses blocked numbers' forms).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult, shortnumberinfo

from aimport.itemtypes.phonefast import canonical_column, plain_international

__all__ = ["PhoneError", "canonical_column", "is_national", "normalise_phone", "phone_from_number", "plain_international"]

NATIONAL_DIGITS = (3, 17)  # a national number without a region: digits, this many (the trunk prefix included)
WHOLE_DIGITS = 7  # a part of a cell with at least this many digits is a phone number on its own
SHORT_DIGITS = 6  # a short number of the region (112, 116 123) has at most this many digits
AREA_DIGITS = 6  # at most this many digits before a '/' make an area code (030/12345678)
SERVICE_CODE = re.compile(r"[*#][0-9*#]{1,31}")
# an extension at the end of a number: ;ext=12, ext. 12, extension 12, x12, #12
EXTENSION = re.compile(r"(?i)(?<=[\d)\s])\s*(?:[;,]\s*ext\s*=|(?:ext(?:ension|n)?|x)\.?\s*:?|#)\s*(\d{1,10})\s*$")
SEPARATOR = re.compile(r"(?i)\s*[/,;|&\r\n]\s*|\s+(?:or|and|tai|ja|eller|och|oder|und)\s+")
NOISE = re.compile(r"[\s\-\u2010-\u2015.()/]")  # spaces, dashes, dots, brackets and area-code slashes
ALLOWED = re.compile(r"[\d\s\-\u2010-\u2015.()/+]*")
LETTER = re.compile(r"[^\W\d_]")
_COUNT = {2: "two", 3: "three", 4: "four"}


class PhoneError(ValueError):
    """A cell is not one phone number; ``str(exc)`` says why."""


def _show(text: str, limit: int = 60) -> str:
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def normalise_phone(text: str, region: str = "") -> str:
    """The stored form of a phone cell's (stripped, non-empty) text: E.164, or without ``region`` the digits
    of a national number; raises PhoneError with the reason otherwise."""
    ok, out = _normalise(text, region.upper())
    if not ok:
        raise PhoneError(out)
    return out


def phone_from_number(number: int, region: str = "") -> str:
    """A phone read from a number cell (its leading 0 or + may have been lost): with a region, the E.164 of
    a valid national number of the region, or of one that starts with the region's country code; otherwise
    the number's digits read as text (:func:`normalise_phone`)."""
    ok, out = _from_number(number, region.upper())
    if not ok:
        raise PhoneError(out)
    return out


def is_national(stored: str) -> bool:
    """A stored phone that is not E.164 (no leading ``+``): read without a region, a short number or a code."""
    return not stored.startswith("+")


@lru_cache(maxsize=1 << 16)
def _from_number(number: int, region: str) -> tuple[bool, str]:
    if not 0 <= number < 10**15:
        return False, f"{number} is not a phone number (a whole number of at most 15 digits)"
    digits = str(number)
    if region:
        _check_region(region)
        cc = phonenumbers.country_code_for_region(region)
        candidates = [PhoneNumber(country_code=cc, national_number=number),
                      PhoneNumber(country_code=cc, national_number=number, italian_leading_zero=True)]
        if digits.startswith(str(cc)) and len(digits) > len(str(cc)):
            candidates.append(PhoneNumber(country_code=cc, national_number=int(digits[len(str(cc)):])))
        for n in candidates:
            if phonenumbers.is_valid_number_for_region(n, region):
                return True, phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return _normalise(digits, region)


@lru_cache(maxsize=1 << 16)
def _normalise(text: str, region: str) -> tuple[bool, str]:
    """(True, stored form) or (False, reason): cached, so a reason is never an exception kept alive."""
    fast = plain_international(text)
    if fast is not None:
        return True, fast
    try:
        return True, _one_cell(text.strip(), region)
    except PhoneError as exc:
        return False, str(exc)


def _one_cell(text: str, region: str) -> str:
    if region:
        _check_region(region)
    if not text:
        raise PhoneError("an empty cell is not a phone number")
    if text[0] in "*#":
        code = re.sub(r"[\s\-]", "", text)
        if SERVICE_CODE.fullmatch(code) and any(c.isdigit() for c in code):
            return code
        raise PhoneError(f"{_show(text)} is not a service code (such as *100#: '*' or '#', digits, '*' and '#')")
    ext = EXTENSION.search(text)
    if ext and any(c.isdigit() for c in text[:ext.start()]):
        raise PhoneError(f"{_show(text)} has an extension ({ext.group(1)}): write the number without it "
                         "(aimport cannot dial an extension)")
    parts = SEPARATOR.split(text)
    if len(parts) > 1:
        text = _joined(text, parts, region)
    return _one_number(text, region)


def _joined(text: str, parts: list[str], region: str) -> str:
    """The one number a cell with separators holds (``030/12345678``), or PhoneError (several numbers)."""
    filled = [p for p in parts if p.strip()]
    whole = [p for p in filled if _digits(p) >= WHOLE_DIGITS and _normalise(p, region)[0]]
    if len(whole) >= 2:
        count = _COUNT.get(len(filled), str(len(filled))) if len(whole) == len(filled) else "more than one"
        plural = "s" if len(whole) == len(filled) else ""
        raise PhoneError(f"{_show(text)} holds {count} phone number{plural}: one number per cell")
    separators = {s.strip().lower() or " " for s in SEPARATOR.findall(text)}
    if separators == {"/"} and len(filled) == 2 and _digits(filled[0]) <= AREA_DIGITS:
        return "".join(filled)  # an area code, a slash and the subscriber's number: one number
    sep = sorted(separators)[0]
    raise PhoneError(f"{_show(text)} holds {sep!r}, which does not belong in a phone number: one number per cell")


def _digits(text: str) -> int:
    return sum(c.isdecimal() for c in text)


def _one_number(text: str, region: str) -> str:
    if LETTER.search(text):
        vanity = phonenumbers.convert_alpha_characters_in_number(text)
        # a vanity number (1-800-FLOWERS: digits and a word) gets its digits; plain words ("no phone") do not
        hint = (f" (as digits: {vanity})" if vanity != text and ALLOWED.fullmatch(vanity) and _digits(text) >= 3
                else "")
        raise PhoneError(f"{_show(text)} is not a phone number: it holds letters; write the number's digits{hint}")
    if not ALLOWED.fullmatch(text):
        bad = next(c for c in text if not ALLOWED.fullmatch(c))
        raise PhoneError(f"{_show(text)} holds {bad!r}, which is not part of a phone number")
    compact = NOISE.sub("", text)
    if "+" in compact[1:]:
        raise PhoneError(f"{_show(text)} has a '+' inside: '+' only begins an international number")
    digits = phonenumbers.normalize_digits_only(compact)
    if compact.startswith("+"):
        return _international(text, digits, region)
    if digits.startswith("00"):
        return _international(text, digits[2:], region)
    if not region:
        low, high = NATIONAL_DIGITS
        if len(digits) < low:
            raise PhoneError(f"{_show(text)} is too short: a phone number has at least {low} digits")
        if len(digits) > high:
            raise PhoneError(f"{_show(text)} is too long: a national phone number has at most {high} digits")
        return digits
    return _national(text, digits, region)


def _international(text: str, digits: str, region: str) -> str:
    if not digits:
        raise PhoneError(f"{_show(text)} has no number after the international prefix")
    n = _parse(text, "+" + digits, None)
    return _checked(text, n, international=True)


def _national(text: str, digits: str, region: str) -> str:
    n = _parse(text, digits, region)
    if len(digits) <= SHORT_DIGITS and shortnumberinfo.is_valid_short_number_for_region(n, region):
        return digits  # 112, 116 123: only ever dialled inside the region, kept as written
    return _checked(text, n)


def _parse(text: str, number: str, region: str | None) -> PhoneNumber:
    try:
        return phonenumbers.parse(number, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise PhoneError(f"{_show(text)} has no valid country code") from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise PhoneError(f"{_show(text)} is too long to be a phone number") from None
        if exc.error_type in (NumberParseException.TOO_SHORT_AFTER_IDD, NumberParseException.TOO_SHORT_NSN):
            raise PhoneError(f"{_show(text)} is too short to be a phone number") from None
        raise PhoneError(f"{_show(text)} is not a phone number") from None


def _checked(text: str, n: PhoneNumber, international: bool = False) -> str:
    """E.164 of a possible number, or why it is not possible (a number written with its country code that
    could only be a local one, without the area code, is too short)."""
    reason = phonenumbers.is_possible_number_with_reason(n)
    where = _where(n)
    if reason == ValidationResult.IS_POSSIBLE and _trunk_kept(n):
        raise PhoneError(f"{_show(text)} is too short for {where}")
    if reason == ValidationResult.IS_POSSIBLE:
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        raise PhoneError(f"{_show(text)} has no valid country code")
    if reason == ValidationResult.TOO_SHORT or (international and reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise PhoneError(f"{_show(text)} is too short for {where}")
    if reason == ValidationResult.TOO_LONG:
        raise PhoneError(f"{_show(text)} is too long for {where}")
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise PhoneError(f"{_show(text)} is a local number in {where}: write it with its area code")
    raise PhoneError(f"{_show(text)} has a length no number of {where} has")


def _national_prefix(n: PhoneNumber) -> str:
    regions = phonenumbers.region_codes_for_country_code(n.country_code or 0)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(regions[0], None) if regions else None
    return (meta.national_prefix or "") if meta is not None else ""


def _trunk_kept(n: PhoneNumber) -> bool:
    """The national number still begins with the trunk prefix (``09 555`` in FI: ``+35809555``): phonenumbers
    keeps it when the rest is too short to be a number. Such a number is never dialled with its trunk prefix
    after the country code, so it is rejected unless it is a valid number all the same (Russia's 8 800 ...)."""
    prefix = _national_prefix(n)
    nsn = phonenumbers.national_significant_number(n)
    return bool(prefix) and nsn.startswith(prefix) and not phonenumbers.is_valid_number(n)


def _where(n: PhoneNumber) -> str:
    """``FI (+358)``; a non-geographic code (+800) on its own."""
    cc = n.country_code or 0
    regions = phonenumbers.region_codes_for_country_code(cc)
    code = f"+{cc}"
    if not regions or regions[0] == "001":
        return code
    return f"{regions[0]} ({code})"


def _check_region(region: str) -> None:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r} (a two-letter region such as FI, SE, DE, GB, US)")
