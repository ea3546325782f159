"""The service's own line to the system store: /readyz asks whether it answers, /metrics how fast.

One connection, kept open between checks and opened again after an error; a check is one round
trip (``SELECT 1``). Runs in worker threads (the HTTP handler's), one check at a time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aimport.store.connect import open_db
from aimport.store.db import Db, StoreAddress, StoreError, redact

__all__ = ["StoreCheck", "StoreProbe"]


@dataclass(frozen=True)
class StoreCheck:
    ok: bool
    round_trip_s: float = 0.0
    problem: str = ""  # why the store did not answer (no password in it)


class StoreProbe:
    def __init__(self, address: StoreAddress, timeout_s: float = 5.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._db: Db | None = None
        self._lock = threading.Lock()
        self.last = StoreCheck(ok=True)

    def check(self) -> StoreCheck:
        with self._lock:
            try:
                if self._db is None:
                    self._db = open_db(self.address, timeout=self.timeout_s)
                self.last = StoreCheck(True, self._db.ping())
            except StoreError as exc:
                self._drop()
                self.last = StoreCheck(False, problem=str(exc) or f"the system store {redact(self.address)} did not answer")
            return self.last

    def _drop(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
                pass
            self._db = None

    def close(self) -> None:
        with self._lock:
            self._drop()
