"""How a file name (or any text from outside: a sheet name, a cell) is shown: the one escaping rule.

Every file and view that shows a name uses :func:`display_name`: the ``.log`` (each line goes through it,
:func:`aimport.importing.worklog.line`), the ``.result`` (:func:`aimport.service.archive.result_value`, which
also doubles backslashes so the file reads back unambiguously), the service log (its formatters), the audit
and status commands, and the jobs view. A name is free to hold anything a file system allows; what could
break or forge a line, or make it read differently from what it holds, is shown as an escape instead:

- control characters: C0 (``\\n``, ``\\r``, ``\\t``, ``\\x1b``, ...), DEL and C1 (``\\x85``, ...), as ``\\n``,
  ``\\r``, ``\\t`` or ``\\xNN``;
- the Unicode line and paragraph separators U+2028 and U+2029 (``\\u2028``): line breaks to many readers;
- the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069): they reorder what
  follows them on screen;
- bytes that are not UTF-8 (a name read with ``surrogateescape``), as ``\\xNN``.

The result is one line of printable text, and escaping it again changes nothing (so a message built from an
escaped name can go through a formatter that escapes once more).
"""

from __future__ import annotations

import re

__all__ = ["display_name", "needs_escape"]

_SPECIAL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def needs_escape(text: str) -> bool:
    """Whether ``text`` holds a character :func:`display_name` escapes (not counting non-UTF-8 bytes)."""
    return _ESCAPED.search(text) is not None


def _escape(m: re.Match[str]) -> str:
    ch = m[0]
    return _SPECIAL.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def display_name(name: str) -> str:
    """``name`` as one line of printable text (see the module): safe in a log line, an audit view, a side file."""
    if name.isprintable():  # what is escaped is never printable (nor is an escaped byte): nothing to do
        return name
    if name.isascii():
        text = name
    else:
        try:
            text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that is no escaped byte
            text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _ESCAPED.sub(_escape, text)
