"""The tokens of a number format code: sections, literal text, brackets, digit placeholders.

Split out of :mod:`numformat`, which renders numbers with them. A code holding what is not rendered (a date
or time, scientific notation, a fraction, a condition) raises :class:`Unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Token", "Unsupported", "split_sections", "tokens"]

COLORS = {"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"}
DATE_LETTERS = set("yYmMdDhHsS")


class Unsupported(Exception):
    """The code holds something this renderer does not show exactly (or a date): the number stays plain."""


@dataclass(frozen=True)
class Token:
    kind: str  # lit | digit | point | comma | percent | general
    text: str  # the literal text, the placeholder (0 # ?), or ""


def split_sections(code: str) -> list[str]:
    """The code's sections (``positive;negative;zero;text``), a ``;`` in quotes or brackets left alone."""
    out, cur, i = [], [], 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            j = code.find('"', i + 1)
            j = len(code) - 1 if j < 0 else j
            cur.append(code[i:j + 1])
            i = j + 1
            continue
        if ch in "\\_*" and i + 1 < len(code):
            cur.append(code[i:i + 2])
            i += 2
            continue
        if ch == "[":
            j = code.find("]", i)
            j = len(code) - 1 if j < 0 else j
            cur.append(code[i:j + 1])
            i = j + 1
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _bracket(body: str) -> str:
    """The text a ``[...]`` shows: colors and locales show nothing, ``[$€-40B]`` shows the symbol."""
    low = body.lower()
    if low in COLORS or (low.startswith("color") and low[5:].isdigit()):
        return ""
    if body.startswith("$"):
        return body[1:].split("-", 1)[0]
    raise Unsupported(body)  # conditions, elapsed time, DBNum ...


def tokens(sec: str) -> list[Token]:
    """One section's tokens (literal text with quotes and escapes undone, ``_x`` a space, ``*x`` left out)."""
    toks: list[Token] = []
    i, n = 0, len(sec)
    while i < n:
        ch = sec[i]
        if ch == '"':
            j = sec.find('"', i + 1)
            j = n if j < 0 else j
            toks.append(Token("lit", sec[i + 1:j]))
            i = j + 1
            continue
        if ch == "\\" and i + 1 < n:
            toks.append(Token("lit", sec[i + 1]))
            i += 2
            continue
        if ch == "_" and i + 1 < n:
            toks.append(Token("lit", " "))
            i += 2
            continue
        if ch == "*" and i + 1 < n:
            i += 2
            continue
        if ch == "[":
            j = sec.find("]", i)
            toks.append(Token("lit", _bracket(sec[i + 1:j if j >= 0 else n])))
            i = n if j < 0 else j + 1
            continue
        if sec[i:i + 7].lower() == "general":
            toks.append(Token("general", ""))
            i += 7
            continue
        if ch in "0#?":
            toks.append(Token("digit", ch))
        elif ch == "." and not any(t.kind == "point" for t in toks):
            toks.append(Token("point", ""))
        elif ch == ",":
            toks.append(Token("comma", ""))
        elif ch == "%":
            toks.append(Token("lit", "%"))
            toks.append(Token("percent", ""))
        elif ch in DATE_LETTERS or ch in "eE/@" or sec[i:i + 5].upper() == "AM/PM" or sec[i:i + 3].upper() == "A/P":
            raise Unsupported(ch)  # dates and times, scientific, fractions, text in a number section
        else:
            toks.append(Token("lit", ch))
        i += 1
    return toks
