"""Who a store connection is and how long its waits may last: its :class:`StoreSession`
(set once per process by :func:`aimport.store.connect.configure`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["StoreSession"]


@dataclass(frozen=True)
class StoreSession:
    """Who connects to the store and how long its waits may last (seconds)."""

    unit: str = ""  # SERVER_UNIT ("" outside a service: a command)
    role: str = "cli"  # service | import | status | cli ...
    turn_timeout_s: float = 30.0  # an import's wait for its write turn (aimport.store.turn)
    idle_timeout_s: float = 60.0  # idle_in_transaction_session_timeout
    lock_timeout_s: float = 60.0  # lock_timeout of every other statement

    def application_name(self) -> str:
        """``aimport <SERVER_UNIT> pid <pid> <role>`` (at most 63 bytes, what PostgreSQL keeps)."""
        return f"aimport {self.unit or '-'} pid {os.getpid()} {self.role}"[:63]
