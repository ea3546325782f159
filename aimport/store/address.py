"""The system store's address: which ``--store`` values are taken (one rule for every command), and how an
address is shown and recorded without its password.

``--store`` is ``sqlite`` (``STATE/system.sqlite``), a ``postgresql://`` (or ``postgres://``) URL, or a libpq
keyword string (``host=db port=5432 dbname=aimport user=aim``). Whatever libpq itself accepts is read by
libpq's own parser (``psycopg.conninfo.conninfo_to_dict``), never by hand, so a password is found wherever
libpq would find one: ``user:PASSWORD@`` in the URL, ``?password=`` (also percent-encoded, ``?pass%77ord=``),
``password=`` in a keyword string, and ``sslpassword`` in either. A keyword string is turned into the URL
that libpq reads as the same parameters, so the rest of aimport knows only two kinds of address: a SQLite
file (a :class:`~pathlib.Path`) and a URL (a ``str``).

Shown (:func:`display`: logs, messages, ``aimport status``, /readyz), each password is ``***``; recorded in
``STATE/service.json`` (:func:`without_password`), it is left out (the CLI takes it from
``AIMPORT_STORE_PASSWORD`` or libpq's pgpass file, like the service). Every masked form is read back with
libpq's parser and must give the same parameters with the passwords masked or gone; when it does not, the
address is shown rebuilt from those parameters instead. An address libpq cannot read is never echoed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

__all__ = ["MASK", "SECRET_KEYS", "StoreAddressError", "display", "is_url", "resolve", "without_password"]

SECRET_KEYS = ("password", "sslpassword")  # libpq's parameters that hold a secret
MASK = "***"
URL_PREFIXES = ("postgresql://", "postgres://")  # the two libpq takes (case-sensitive, as libpq)
FORMS = "sqlite, a postgresql://USER@HOST:PORT/DB URL or libpq keywords (host=... dbname=... user=...)"
LEADING = ("host", "hostaddr", "port", "dbname", "user")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_PLAIN = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # a value that can be echoed in a message (a typo of "sqlite")


class StoreAddressError(ValueError):
    """``--store`` is not an address aimport can use (the message never holds a password)."""


def is_url(text: str) -> bool:
    return text.startswith(URL_PREFIXES)


def resolve(setting: str, state_dir: Path) -> Path | str:
    """The store ``setting`` names: ``STATE/system.sqlite`` for ``sqlite``, else a URL libpq reads; or
    :class:`StoreAddressError` saying why the setting is refused."""
    if setting == "sqlite":
        return state_dir / "system.sqlite"
    scheme = _SCHEME.match(setting)
    if scheme and not is_url(setting):
        raise StoreAddressError(f"--store: the scheme {scheme[1]}:// is not supported; use {FORMS}")
    if is_url(setting):
        _params(setting)
        return setting
    if "=" in setting:
        params = _params(setting)  # shown in the order an address is read: where, which database, who, the rest
        return _as_url(dict(sorted(params.items(), key=lambda kv: LEADING.index(kv[0]) if kv[0] in LEADING else 99)))
    shown = repr(setting) if _PLAIN.fullmatch(setting) else "this value (not shown)"
    raise StoreAddressError(f"--store must be {FORMS}, not {shown}")


def display(address: Path | str) -> str:
    """``address`` for a log line or a message: every password ``***``."""
    if isinstance(address, Path) or not (is_url(address) or "=" in address):
        return str(address)
    try:
        params = _params(address)
    except StoreAddressError:
        scheme = _SCHEME.match(address)
        return f"a {scheme[1]}:// address libpq cannot read (not shown)" if scheme else \
            "an address libpq cannot read (not shown)"
    secrets = [k for k in SECRET_KEYS if params.get(k)]
    if not secrets:
        return address
    want = {**params, **{k: MASK for k in secrets}}
    if is_url(address):
        masked = _edit_url(address, drop=False)
        if _readback(masked) == want:
            return masked
    return _as_keywords(want)


def without_password(setting: str) -> str:
    """The store setting as ``STATE/service.json`` records it: with no password (nor ``sslpassword``)."""
    if setting == "sqlite" or not (is_url(setting) or "=" in setting):
        return setting
    try:
        params = _params(setting)
    except StoreAddressError:
        return display(setting)
    if not any(k in params for k in SECRET_KEYS):
        return setting
    want = {k: v for k, v in params.items() if k not in SECRET_KEYS}
    if is_url(setting):
        stripped = _edit_url(setting, drop=True)
        if _readback(stripped) == want:
            return stripped
        return _as_url(want)
    return _as_keywords(want)


def _params(text: str) -> dict[str, str]:
    """libpq's reading of ``text``; :class:`StoreAddressError` (without the text) when libpq refuses it."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except psycopg.Error as exc:
        raise StoreAddressError(f"--store is not a PostgreSQL address libpq accepts ({_reason(exc, text)}); "
                                f"use {FORMS}") from None


def _readback(text: str) -> dict[str, str] | None:
    try:
        return _params(text)
    except StoreAddressError:
        return None


def _reason(exc: Exception, text: str) -> str:
    """libpq's message with every quoted part hidden but an option name (a word followed by ``=`` in ``text``)."""
    def shown(m: re.Match[str]) -> str:
        word = m[1]
        keyword = re.fullmatch(r"[A-Za-z_]+", word) and re.search(rf"(?<![^\s?&]){re.escape(word)}\s*=", text)
        return m[0] if word == "=" or keyword else '"..."'

    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r'"([^"]*)"', shown, message)


def _as_url(params: dict[str, str]) -> str:
    """The URL libpq reads as ``params`` (every parameter in the query: hosts, sockets and IPv6 need no brackets)."""
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    url = "postgresql://" + (f"?{query}" if query else "")
    if _readback(url) != params:
        raise StoreAddressError(f"--store: libpq does not read these parameters back the same; use {FORMS}")
    return url


def _as_keywords(params: dict[str, Any]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo("", **params)


def _edit_url(url: str, drop: bool) -> str:
    """``url`` with its passwords masked (``drop``: left out), split as libpq splits it: the user part ends at the
    first ``@`` before any ``/``; parameters follow the first ``?`` after it, ``&``-separated, names percent-decoded."""
    prefix, body = url.split("://", 1)
    stop = re.search(r"[@/]", body)
    userinfo, rest = "", body
    if stop is not None and stop[0] == "@":
        user, colon, _ = body[:stop.start()].partition(":")
        userinfo = (user if drop or not colon else f"{user}:{MASK}") + "@"
        rest = body[stop.end():]
    if userinfo == "@" and drop:
        userinfo = ""
    base, question, query = rest.partition("?")
    kept = []
    for part in query.split("&") if question else []:
        name = part.partition("=")[0]
        if unquote(name) in SECRET_KEYS:
            if not drop:
                kept.append(f"{name}={MASK}")
        else:
            kept.append(part)
    return f"{prefix}://{userinfo}{base}" + (f"?{'&'.join(kept)}" if kept else "")
