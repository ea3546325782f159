"""Notifications: a POST to a webhook (``notify_url``) for each failed or partial import, a file held too long,
each exported campaign, and the service's start and stop.

- :mod:`aimport.service.notify.events`: what is told (:class:`~aimport.service.notify.events.Notification`) and the narrow
  interface the service tells it through (:class:`~aimport.service.notify.events.Notifier`, ``post`` never waits);
- :mod:`aimport.service.notify.payloads`: the body for ``notify_format`` json, slack or teams;
- :mod:`aimport.service.notify.outbox`: the bounded queue and the sender task (retries with the one backoff);
- :mod:`aimport.service.notify.webhook`: which URLs are taken, and how one is shown without its secret.
"""

__all__: list[str] = []
