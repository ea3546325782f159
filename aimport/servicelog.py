"""Service logging: text for people, one JSON object per line for containers."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from aimport.names import display_name

LOGGER = "aimport"
FIELDS = ("import_id", "type", "file", "status", "error_code")
REPEAT_WINDOW_S = 60.0
REPEAT_KEYS = 1000


@dataclass
class _Seen:
    first: float
    held: int = 0


class RepeatFilter(logging.Filter):
    """An identical WARNING or ERROR line is logged once per ``window_s``; the first one after the window
    says how many were held back (300 SIGHUPs in a second give one line, not 300)."""

    def __init__(self, window_s: float = REPEAT_WINDOW_S) -> None:
        super().__init__()
        self.window_s = window_s
        self.seen: dict[tuple[int, str], _Seen] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = record.getMessage()
        key = (record.levelno, text)
        now = time.monotonic()
        seen = self.seen.get(key)
        if seen is not None and now - seen.first < self.window_s:
            seen.held += 1
            return False
        if seen is not None and seen.held:
            record.msg, record.args = f"{text} (and {seen.held} identical line(s) held back in {self.window_s:g}s)", ()
        if len(self.seen) >= REPEAT_KEYS:
            for old in [k for k, v in self.seen.items() if now - v.first >= self.window_s] or list(self.seen)[:REPEAT_KEYS // 2]:
                del self.seen[old]
        self.seen[key] = _Seen(now)
        return True


def one_line(text: str) -> str:
    """A log message on one line of printable text: a line break or another control character (from a file name,
    say) shows escaped, by the one rule (:func:`aimport.names.display_name`)."""
    return display_name(text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname.lower(),
            "event": one_line(record.getMessage()),
        }
        for k in FIELDS:
            v = getattr(record, k, None)
            if v is not None:
                out[k] = one_line(v) if isinstance(v, str) else v
        if record.exc_info and record.levelno >= logging.ERROR:
            out["error"] = one_line(self.formatException(record.exc_info).splitlines()[-1])
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if getattr(record, k, None) is not None)
        base = f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {record.levelname:<7} {record.getMessage()}"
        return one_line(f"{base} [{extra}]" if extra else base)


def setup(fmt: str = "text", level: int = logging.INFO) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RepeatFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def get() -> logging.Logger:
    return logging.getLogger(LOGGER)
