"""The outbox: notifications queued in memory and sent to the webhook by one task of the service.

:meth:`Outbox.post` only appends to a bounded queue (when it is full the oldest waiting notification is
dropped and counted ``dropped``) and returns: an import never waits for the network. :meth:`Outbox.run`,
a task in the service's task group, sends them one at a time in the order they happened, each request
bounded by ``notify_timeout_s``. A receiver that does not answer, answers 408, 429 or 5xx, or cannot be
reached is tried again with the service's one backoff (1 s doubling to 60 s, aimport.service.backoff) for up to an
hour (``retried`` each time), then given up (``failed``); any other answer is final (2xx ``sent``, 3xx or
4xx ``failed``: a wrong or revoked URL does not get better by asking again). At shutdown
:meth:`Outbox.finish` gives what is queued (the ``service_stopped`` notification last) a short grace.
The URL is shown only as ``scheme://host/…`` (aimport.service.notify.webhook).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio

from aimport.service.backoff import Backoff
from aimport.service.notify import payloads, webhook
from aimport.service.notify.events import Notification

if TYPE_CHECKING:
    import httpx

    from aimport.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["CAPACITY", "GIVE_UP_S", "OUTCOMES", "STOP_GRACE_S", "Outbox", "first_reason"]

OUTCOMES = ("sent", "retried", "failed", "dropped")  # aimport_notifications_total{outcome}
CAPACITY = 1000  # notifications waiting at most; then the oldest is dropped
GIVE_UP_S = 3600.0  # a notification is tried again for up to an hour
STOP_GRACE_S = 5.0  # at shutdown, what is queued gets this long
RETRY_STATUS = frozenset({408, 425, 429})  # and every 5xx
REASON_SCAN_BYTES = 256 << 10  # how much of an import's .log is read for the reason line


def _ignore(outcome: str) -> None:
    pass


def first_reason(log: str, status: str | None) -> str:
    """The reason in an import's ``.log`` text: its first ERROR line (a partial import: its first REJECT line)."""
    want = ("ERROR", "REJECT") if status != "partial" else ("REJECT", "ERROR")
    found: dict[str, str] = {}
    for line in log.splitlines():
        parts = line.split(None, 3)  # date, time, level, text
        if len(parts) == 4 and parts[2] in want and parts[2] not in found:
            found[parts[2]] = parts[3]
    return next((found[w] for w in want if w in found), "")


def _read_reason(note: Notification) -> Notification:
    """The note with its ``.log``'s reason line as the message (read in a worker thread; best effort)."""
    if note.log is None:
        return note
    try:
        with open(note.log, encoding="utf-8", errors="replace") as fh:
            reason = first_reason(fh.read(REASON_SCAN_BYTES), note.status)
    except OSError:
        return note
    if not reason:
        return note
    if len(reason) > 1000:
        reason = reason[:999] + "…"
    return replace(note, message=f"First rejected row: {reason}. {note.message}" if note.status == "partial" else reason)


@dataclass
class Outbox:
    """The queue and sender of one service (a :class:`aimport.service.notify.events.Notifier`)."""

    url: str = field(repr=False)
    fmt: str = "json"  # json | slack | teams
    unit: str = ""  # SERVER_UNIT
    jobs: str | None = None  # the jobs view's base URL (--http), for links
    timeout_s: float = 10.0  # one request at most
    counted: Callable[[str], None] = _ignore  # told each outcome (aimport_notifications_total)
    capacity: int = CAPACITY
    give_up_s: float = GIVE_UP_S
    _queue: deque[Notification] = field(default_factory=deque, init=False)
    _wake: anyio.Event = field(default_factory=anyio.Event, init=False)
    _hurry: anyio.Event = field(default_factory=anyio.Event, init=False)  # shutdown: stop waiting between tries
    _sending: Notification | None = field(default=None, init=False)
    _troubled: bool = field(default=False, init=False)  # the last try failed (a line says when it works again)
    _done: bool = field(default=False, init=False)
    _dropped: int = field(default=0, init=False)  # dropped because the queue was full

    @classmethod
    def for_settings(cls, settings: Settings, counted: Callable[[str], None] = _ignore) -> Outbox | None:
        """The service's outbox, or None when ``notify_url`` is not set."""
        if not settings.notify_url:
            return None
        return cls(webhook.check(settings.notify_url), settings.notify_format, f"{settings.server}_{settings.unit}",
                   payloads.jobs_base(settings.http), settings.notify_timeout_s, counted)

    @property
    def shown(self) -> str:
        return webhook.shown(self.url)

    def post(self, note: Notification) -> None:
        """Queue ``note`` (never waits; when the queue is full the oldest waiting one is dropped)."""
        if self._done:
            self.counted("dropped")
            return
        if len(self._queue) >= self.capacity:
            old = self._queue.popleft()
            self.counted("dropped")
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 100 == 0:  # a flood is one line per 100, not one each
                logger.warning(f"notifications: {self.capacity} are waiting for {self.shown}; dropped the oldest "
                               f"({old.event}: {old.title}; {self._dropped} dropped since start)")
        self._queue.append(replace(note, unit=self.unit, link=payloads.jobs_link(self.jobs, note.import_id)))
        self._wake.set()

    def waiting(self) -> int:
        """Notifications not sent yet (the one being sent included)."""
        return len(self._queue) + (self._sending is not None)

    async def run(self) -> None:
        """Send what is posted, in order, until cancelled (a task of the service's task group). Nothing that goes
        wrong here stops the service: the sender logs it and starts again after the backoff's delay."""
        logger.info(f"notifications ({self.fmt}) go to {self.shown}")
        backoff = Backoff()
        while True:
            try:
                await self._send_all()
            except Exception as exc:  # noqa: BLE001 - notifications never stop the service
                logger.error(f"notifications: the sender stopped ({type(exc).__name__}: {self._safe(str(exc))}); "
                             f"starting it again in {backoff.delay:g}s")
                await backoff.wait()

    async def _send_all(self) -> None:
        import httpx  # loaded only when notify_url is set

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False, limits=limits) as client:
            while True:
                while not self._queue:
                    await self._wake.wait()
                    self._wake = anyio.Event()
                self._sending = note = self._queue.popleft()
                try:
                    await self._deliver(client, note)
                except Exception as exc:  # noqa: BLE001 - one notification's trouble is not the next one's
                    self.counted("failed")
                    logger.error(f"notification {note.event} ({note.title}) not sent to {self.shown}: "
                                 f"{type(exc).__name__}: {self._safe(str(exc))}")
                finally:
                    self._sending = None

    async def finish(self, grace_s: float = STOP_GRACE_S) -> None:
        """Shutdown: give what is queued up to ``grace_s`` (tries follow each other without waiting), then count
        whatever is left ``dropped``; later posts are dropped too."""
        self._hurry.set()
        with anyio.move_on_after(grace_s):
            while self.waiting():
                await anyio.sleep(0.05)
        self._done = True
        left = self.waiting()
        if left:
            for _ in range(left):
                self.counted("dropped")
            logger.warning(f"notifications: {left} not sent to {self.shown} at stop")
            self._queue.clear()

    async def _deliver(self, client: httpx.AsyncClient, note: Notification) -> None:
        note = await anyio.to_thread.run_sync(_read_reason, note)
        data = payloads.body(note, self.fmt)
        backoff, first = Backoff(), anyio.current_time()
        while True:
            problem, final = await self._attempt(client, data)
            if problem is None:
                self.counted("sent")
                if self._troubled:
                    self._troubled = False
                    logger.info(f"notifications reach {self.shown} again")
                return
            delay = backoff.step()
            if final or self._hurry.is_set() or anyio.current_time() - first + delay > self.give_up_s:
                self.counted("failed")
                self._troubled = True
                why = "" if final else " (given up after retrying)"
                logger.error(f"notification {note.event} ({note.title}) not sent to {self.shown}: {problem}{why}")
                return
            self.counted("retried")
            if not self._troubled:
                logger.warning(f"notification {note.event} not sent to {self.shown} yet: {problem}; retrying "
                               f"with backoff for up to {self.give_up_s / 60:g} min")
            self._troubled = True
            with anyio.move_on_after(delay):
                await self._hurry.wait()

    async def _attempt(self, client: httpx.AsyncClient, data: bytes) -> tuple[str | None, bool]:
        """One POST: (None, _) when it was taken; else (what went wrong, whether it is final)."""
        import httpx

        with anyio.move_on_after(self.timeout_s) as scope:
            try:
                answer = await client.post(self.url, content=data,
                                           headers={"Content-Type": "application/json; charset=utf-8",
                                                    "User-Agent": "aimport"})
            except httpx.TimeoutException:
                return f"no answer within {self.timeout_s:g}s", False
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {self._safe(str(exc))}", False
            except (ValueError, TypeError, httpx.InvalidURL) as exc:  # a URL httpx cannot use: asking again will not help
                return f"{type(exc).__name__}: {self._safe(str(exc))}", True
        if scope.cancelled_caught:
            return f"no answer within {self.timeout_s:g}s", False
        status = answer.status_code
        if 200 <= status < 300:
            return None, False
        text = f"the receiver answered {status} {answer.reason_phrase}"
        if status in RETRY_STATUS or status >= 500:
            return text, False
        return text + (" (a redirect is not followed: give the final URL)" if 300 <= status < 400 else
                       " (check notify_url and notify_format)"), True

    def _safe(self, text: str) -> str:
        """An error text without the URL's secret parts (an HTTP library may quote the URL)."""
        out = text.replace(self.url, self.shown)
        parts = urlsplit(self.url)
        for secret in (parts.path, parts.query, parts.username, parts.password):
            if secret and len(secret) > 1:
                out = out.replace(secret, "…")
        return out or "(no detail)"
