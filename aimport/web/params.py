"""Query parameters of the jobs view: each path declares the ones it takes, and this is the one place they are read.

A parameter that is unknown to the path, given twice, empty where a number is wanted, not made of ASCII digits
(``%C2%B2``, a superscript two, is a digit to Python's ``isdigit`` and ``int``: not here), out of range, or not
one of a fixed set of values is a 400 with a short reason, on every path. An empty filter (``type=``) means
"all". A query that is not UTF-8 percent-encoding never gets here (:func:`aimport.web.request.request_of` refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.responses import Response

from aimport.names import display_name
from aimport.web.answers import error
from aimport.web.request import Request

__all__ = ["Choice", "Number", "Spec", "read"]

_DIGITS = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Number:
    """A whole number ``low`` .. ``high`` in ASCII digits; ``default`` when the parameter is not given."""

    low: int
    high: int
    default: int


@dataclass(frozen=True)
class Choice:
    """One of ``values``, or "" (not given or empty: no filter)."""

    values: tuple[str, ...]


Spec = Mapping[str, Number | Choice]


def read(request: Request, spec: Spec) -> dict[str, int | str] | Response:
    """The parameters of ``request`` by ``spec`` (every declared one, defaults filled in), or the 400 answer."""
    if request.repeated:
        return error(400, f"the parameter {_shown(min(request.repeated))} is given more than once")
    for name in request.query:
        if name not in spec:
            takes = ", ".join(spec) if spec else "no parameters"
            return error(400, f"unknown parameter {_shown(name)} (this path takes {takes})")
    out: dict[str, int | str] = {}
    for name, kind in spec.items():
        given = request.query.get(name)
        if isinstance(kind, Number):
            if given is None:
                out[name] = kind.default
            elif _DIGITS.fullmatch(given) and kind.low <= int(given) <= kind.high:
                out[name] = int(given)
            else:
                return error(400, f"{name} must be a number from {kind.low} to {kind.high}")
        elif not given:
            out[name] = ""
        elif given in kind.values:
            out[name] = given
        else:
            return error(400, f"{name} must be one of {', '.join(kind.values)}")
    return out


def _shown(name: str) -> str:
    text = display_name(name)
    return repr(text if len(text) <= 40 else text[:40] + "...")
