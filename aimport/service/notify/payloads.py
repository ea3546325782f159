"""The body of a notification for ``notify_format``: json (aimport's own object), slack or teams.

- ``json``: :func:`as_json`, the object documented in docs/operations/notifications.md (every key always
  present, ``null`` when it does not apply);
- ``slack``: a Slack incoming webhook's message, ``{"text": ..., "blocks": [...]}`` (``text`` is the
  notification's one-line form, for phones and clients without blocks);
- ``teams``: a Microsoft Teams message carrying one Adaptive Card (version 1.2), the form both a Teams
  Workflows webhook ("Post to a channel when a webhook request is received") and a classic incoming
  webhook take.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote

from aimport.service.notify.events import FILE_HELD, IMPORT_FAILED, IMPORT_PARTIAL, Notification

__all__ = ["SCHEMA", "as_json", "as_slack", "as_teams", "body", "jobs_base", "jobs_link"]

SCHEMA = 1  # the json object's "schema": raised when a key changes meaning or goes
SLACK_TEXT_MAX = 2900  # a Slack section's text takes at most 3000 characters
_MARK = {IMPORT_FAILED: ":x:", IMPORT_PARTIAL: ":warning:", FILE_HELD: ":hourglass:"}
_TEAMS_COLOR = {IMPORT_FAILED: "Attention", IMPORT_PARTIAL: "Warning", FILE_HELD: "Warning"}


def jobs_base(http: str | None) -> str | None:
    """``http://HOST:PORT`` of the jobs view served at ``--http`` (a wildcard address: this host's name)."""
    if not http:
        return None
    host, sep, port = http.rpartition(":")
    if not sep:
        host, port = "", http
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname() or "localhost"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def jobs_link(base: str | None, import_id: int | None) -> str | None:
    """The import's page in the jobs view (the view itself for a notification without an import)."""
    if base is None:
        return None
    return f"{base}/imports/{import_id}" if import_id is not None else f"{base}/"


def as_json(note: Notification) -> dict[str, Any]:
    """aimport's own object (docs/operations/notifications.md, "The json format")."""
    return {
        "schema": SCHEMA, "event": note.event, "time": note.time.isoformat(timespec="milliseconds"),
        "unit": note.unit, "title": note.title, "message": note.message, "import_id": note.import_id,
        "type": note.type, "file": note.file, "status": note.status, "error_code": note.error_code,
        "rejected": note.rejected, "campaign": note.campaign,
        "held_since": note.held_since.isoformat(timespec="seconds") if note.held_since else None,
        "link": note.link,
    }


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn reads ``&``, ``<`` and ``>`` as markup: a file name must not make a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_slack(note: Notification) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (the one-line form) and blocks (title, message, context)."""
    mark = _MARK.get(note.event, ":information_source:")
    head = f"{mark} *{_slack_escape(note.title)}*"
    text = head + (f"\n{_slack_escape(note.message)}" if note.message else "")
    if len(text) > SLACK_TEXT_MAX:
        text = text[:SLACK_TEXT_MAX - 1] + "…"
    context = [f"unit {_slack_escape(note.unit)}"] if note.unit else []
    if note.import_id is not None:
        context.append(f"import {note.import_id}")
    if note.link:
        context.append(f"<{quote(note.link, safe=':/?#[]@!$&()*+,;=%')}|open in the jobs view>")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    # "aimport UNIT: title" (a title that starts with aimport: "UNIT: title")
    who = ("" if note.title.startswith("aimport") else "aimport ") + note.unit
    return {"text": f"{who}: {note.title}" if who else note.title, "blocks": blocks}


def _facts(note: Notification) -> list[dict[str, str]]:
    pairs = [("Unit", note.unit), ("Type", note.type), ("File", note.file), ("Campaign", note.campaign),
             ("Status", note.status), ("Error code", note.error_code),
             ("Rejected rows", None if note.rejected is None else str(note.rejected)),
             ("Held since", note.held_since.isoformat(timespec="minutes") if note.held_since else None),
             ("Import", None if note.import_id is None else str(note.import_id)),
             ("Time", note.time.isoformat(timespec="seconds"))]
    return [{"title": k, "value": v} for k, v in pairs if v]


def as_teams(note: Notification) -> dict[str, Any]:
    """A Teams message with one Adaptive Card: title, message, the facts, and a button to the jobs view."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.2",
        "body": [
            {"type": "TextBlock", "text": note.title, "weight": "Bolder", "size": "Medium", "wrap": True,
             "color": _TEAMS_COLOR.get(note.event, "Default")},
            *([{"type": "TextBlock", "text": note.message, "wrap": True}] if note.message else []),
            {"type": "FactSet", "facts": _facts(note)},
        ],
    }
    if note.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in the jobs view", "url": note.link}]
    return {"type": "message", "summary": note.title,
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card}]}


_SHAPES = {"json": as_json, "slack": as_slack, "teams": as_teams}


def body(note: Notification, fmt: str) -> bytes:
    """The UTF-8 JSON body for ``fmt`` (json, slack or teams)."""
    return json.dumps(_SHAPES[fmt](note), ensure_ascii=False).encode("utf-8")
