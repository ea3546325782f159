"""Number formats: the text Excel shows for a number cell (``0000000000`` shows 401234567 as ``0401234567``).

:func:`compile_format` reads a format code once; the :class:`NumberFormat` it gives renders numbers the way
Excel's cells (and its TEXT function) show them: digit placeholders ``0 # ?``, the decimal point, thousands
separators and scaling commas, ``%``, literal text (``"+"0``, ``\\(0\\)0``, ``000-000``, ``€``), sections
``positive;negative;zero``, colors and locales in brackets (``[Red]``, ``[$-409]``, ``[$€-40B]``), ``_x``
(a space) and ``*x`` (a fill, left out). It gives None for what needs no rendering (General, ``@``) and
for what it does not render: date and time formats (calamine gives datetimes for those), scientific
notation, fractions, conditions (``[>100]``) and other brackets; such cells keep their plain number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from aimport.readers.numtokens import Token, Unsupported, split_sections, tokens

__all__ = ["BUILTIN", "NumberFormat", "compile_format", "format_code", "render"]

# the builtin number formats that show a number otherwise than General (ids 14-22, 45-47: dates and times);
# 0 (General) and 49 (@, Text) need no rendering, 11 and 48 (scientific), 12 and 13 (fractions) are not rendered
BUILTIN = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
           12: "# ?/?", 13: "# ??/??", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
           40: "#,##0.00;[Red](#,##0.00)", 48: "##0.0E+0", 49: "@"}


@dataclass(frozen=True)
class _Simple:
    """A section of the common shape: text, ``#`` then ``0`` placeholders, a point and ``0`` then ``#``, text."""

    prefix: str
    suffix: str
    zeros: int  # the integer part's 0 placeholders: its least number of digits
    point: bool
    frac_zeros: int  # the fraction's 0 placeholders (the # after them drop trailing zeros)


@dataclass(frozen=True)
class _Section:
    tokens: tuple[Token, ...]
    int_places: str  # the integer part's placeholders, in order
    frac_places: str  # the fraction's placeholders
    grouping: bool  # thousands separators
    shift: int  # power of ten the value is scaled by (+2 per %, -3 per scaling comma)
    padded: int = 0  # the section is only 0 placeholders (00000): their number
    simple: _Simple | None = None


@dataclass(frozen=True)
class NumberFormat:
    """A compiled number format: up to three numeric sections (positive; negative; zero)."""

    code: str
    sections: tuple[_Section, ...]

    def render(self, value: float | int) -> str | None:
        """The text the cell shows, or None (a number this renderer does not show exactly)."""
        secs = self.sections
        sign = ""
        if len(secs) == 1 or (len(secs) == 2 and value >= 0) or value > 0:
            sec = secs[0]
            sign = "-" if value < 0 and len(secs) == 1 else ""
        elif value < 0:
            sec = secs[1]
        else:
            sec = secs[2]
        try:
            text, zero = _render(sec, abs(value))
        except Unsupported:
            return None
        return (sign if not zero else "") + text


def _digits(x: float | int, frac: int, shift: int) -> tuple[str, str, bool]:
    """The integer digits ("" for 0), ``frac`` fraction digits of ``x`` scaled by ``10**shift`` and rounded as
    Excel rounds (15 significant digits, half away from zero), and whether that is zero."""
    if not shift and x < 1e15:
        if isinstance(x, int) or x.is_integer():  # a whole number: no rounding
            return (str(int(x)) if x else ""), "0" * frac, x == 0
        text = f"{x:.15g}"  # Excel keeps 15 significant digits
        if "e" not in text:
            ip, _, fp = text.partition(".")
            if len(fp) <= frac:
                return ip.lstrip("0"), fp.ljust(frac, "0"), False
            n = int(ip + fp[:frac]) + (fp[frac] >= "5")  # half away from zero (x is not negative here)
            kept = str(n).zfill(frac + 1)
            return (kept[:-frac] if frac else kept).lstrip("0"), kept[-frac:] if frac else "", n == 0
    d = Decimal(f"{x:.15g}").scaleb(shift)  # Excel keeps 15 significant digits
    q = d.quantize(Decimal(1).scaleb(-frac), rounding=ROUND_HALF_UP)
    ip, _, fp = format(q, "f").partition(".")
    return ip.lstrip("0"), fp.ljust(frac, "0"), q == 0


def _group(digits: str) -> str:
    """``1234567`` as ``1,234,567`` (leading zeros of a padded number kept: ``0,000,012``)."""
    if digits[0] != "0" or len(digits) == 1:
        return f"{int(digits):,}"
    return ",".join(digits[max(0, i - 3):i] for i in range(len(digits), 0, -3)[::-1])


def _render(sec: _Section, x: float | int) -> tuple[str, bool]:
    """The section's text for ``x`` (not negative), and whether the shown number is zero."""
    if sec.padded and x < 1e15 and (isinstance(x, int) or x.is_integer()):  # 0000000000: the common case, fast
        return str(int(x)).zfill(sec.padded) if x else "0" * sec.padded, x == 0
    ip, fp, zero = _digits(x, len(sec.frac_places), sec.shift)
    simple = sec.simple
    if simple is not None:  # text, digits, point, digits, text: no placeholder loop
        ip = ip.zfill(simple.zeros)
        if sec.grouping and ip:
            ip = _group(ip)
        if simple.point:
            ip += "." + fp[:simple.frac_zeros] + fp[simple.frac_zeros:].rstrip("0")
        return simple.prefix + ip + simple.suffix, zero
    digits = list(ip)
    ints = [""] * len(sec.int_places)
    for k in range(len(ints) - 1, -1, -1):
        ch = sec.int_places[k]
        ints[k] = digits.pop() if digits else "0" if ch == "0" else " " if ch == "?" else ""
    extra = "".join(digits)  # more digits than placeholders: before the first one
    if sec.grouping:
        whole = extra + "".join(ints)
        core = whole.lstrip(" ")
        grouped = _group(core) if core else ""
        ints = [" " * (len(whole) - len(core)) + grouped] + [""] * (len(ints) - 1)
        extra = ""
    fracs = list(fp)
    for k in range(len(fracs) - 1, -1, -1):
        ch = sec.frac_places[k]
        if ch == "0" or fracs[k] != "0":
            break
        fracs[k] = "" if ch == "#" else " "
    out: list[str] = []
    i = f = 0
    for tok in sec.tokens:
        if tok.kind == "lit":
            out.append(tok.text)
        elif tok.kind == "digit" and i < len(ints):
            out.append((extra if i == 0 else "") + ints[i])
            i += 1
        elif tok.kind == "digit":
            out.append(fracs[f])
            f += 1
        elif tok.kind == "point":
            out.append((extra if not ints else "") + ".")
        elif tok.kind == "general":
            out.append(_general(x))
    general = any(t.kind == "general" for t in sec.tokens)
    return "".join(out), (x == 0) if general else zero  # a section of text only shows no digits at all


def _general(x: float | int) -> str:
    if float(x).is_integer() and x < 1e11:
        return str(int(x))
    text = f"{x:.10g}"
    if "e" in text:
        raise Unsupported(text)
    return text


def _section(sec: str) -> _Section:
    toks = tokens(sec)
    point = next((k for k, t in enumerate(toks) if t.kind == "point"), len(toks))
    digit_at = [k for k, t in enumerate(toks) if t.kind == "digit"]
    int_at = [k for k in digit_at if k < point]
    shift, grouping, kept = 0, False, []
    if any(t.kind == "general" for t in toks) and digit_at:
        raise Unsupported("General with digit placeholders")
    for k, t in enumerate(toks):
        if t.kind == "percent":
            shift += 2
            continue
        if t.kind == "comma":
            before = any(d < k for d in digit_at)
            if before and any(d > k for d in int_at):
                grouping = True
                continue
            if before:
                shift -= 3
                continue
            t = Token("lit", ",")
        kept.append(t)
    if grouping and int_at and any(t.kind == "lit" for t in toks[int_at[0]:int_at[-1]] if t.text):
        raise Unsupported("text among grouped digits")
    ints = "".join(t.text for t in kept if t.kind == "digit")[:len(int_at)]
    fracs = "".join(t.text for t in kept if t.kind == "digit")[len(int_at):]
    padded = len(ints) if not grouping and all(t.kind == "digit" and t.text == "0" for t in kept) else 0
    return _Section(tuple(kept), ints, fracs, grouping, shift, padded, _simple(kept, ints, fracs))


def _simple(kept: list[Token], ints: str, fracs: str) -> _Simple | None:
    """The section as a :class:`_Simple`, if it is one."""
    shape = "".join("d" if t.kind == "digit" else "p" if t.kind == "point" else "l" if t.kind == "lit" else "x"
                    for t in kept)
    core = shape.strip("l")
    if not ints or not re.fullmatch(r"d+(pd*)?", core):
        return None
    if ints.lstrip("#").strip("0") or fracs.rstrip("#").strip("0") or "?" in ints + fracs:
        return None
    start = shape.index("d")
    end = len(shape.rstrip("l"))
    return _Simple("".join(t.text for t in kept[:start]), "".join(t.text for t in kept[end:]), ints.count("0"),
                   "p" in core, len(fracs) - len(fracs.lstrip("0")))


def format_code(num_fmt_id: int, custom: dict[int, str]) -> str | None:
    """The code of a cell style's number format: a custom one (``numFmts``) or a builtin one."""
    return custom.get(num_fmt_id, BUILTIN.get(num_fmt_id))


@lru_cache(maxsize=256)
def compile_format(code: str) -> NumberFormat | None:
    """The format, or None when a number needs no rendering (General, ``@``) or is not rendered (dates ...)."""
    parts = split_sections(code)
    numeric = parts[:3]
    if len(parts) == 1 and parts[0].strip().lower() in ("general", "@", ""):
        return None
    try:
        return NumberFormat(code, tuple(_section(p) for p in numeric))
    except Unsupported:
        return None


def render(code: str, value: float | int) -> str | None:
    """The text ``value`` shows with format ``code``, or None (not rendered: keep the number)."""
    fmt = compile_format(code)
    return fmt.render(value) if fmt is not None else None
