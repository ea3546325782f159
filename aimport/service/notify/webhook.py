"""The webhook URL: which ones are taken, and how one is shown without the secret it holds.

A Slack, Teams or other incoming-webhook URL is a password: whoever has it can post to the channel. Its
path and query are never shown; logs and messages give ``scheme://host/…`` (:func:`shown`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["FORMATS", "WebhookUrlError", "check", "shown"]

FORMATS = ("json", "slack", "teams")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,20}):")


class WebhookUrlError(ValueError):
    """``notify_url`` is not an http(s) URL with a host (the message never holds its path or query)."""


def check(url: str) -> str:
    """``url`` when it is an ``http://`` or ``https://`` URL with a host, else :class:`WebhookUrlError`."""
    text = url.strip()
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise WebhookUrlError("notify_url must be an http:// or https:// URL (the webhook's address), "
                              "not this value (not shown: it may hold a secret)")
    if scheme[1].lower() not in ("http", "https"):
        raise WebhookUrlError(f"notify_url must be an http:// or https:// URL, not {scheme[1].lower()}://… "
                              "(the rest is not shown: it may hold a secret)")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise WebhookUrlError(f"notify_url {_shown_scheme(text)}… is not a valid URL (a bad host or port; "
                              "the rest is not shown)") from None
    if not parts.hostname or any(c.isspace() for c in text):
        raise WebhookUrlError(f"notify_url {_shown_scheme(text)}… has no host name, or has spaces "
                              "(the rest is not shown)")
    return text


def shown(url: str) -> str:
    """``scheme://host[:port]/…``: the URL for a log line or a message (no user, password, path or query)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the notify_url (not shown)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}{port}/…"


def _shown_scheme(text: str) -> str:
    scheme = _SCHEME.match(text)
    return f"{scheme[1].lower()}://" if scheme else ""
