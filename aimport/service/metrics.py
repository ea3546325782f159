"""Prometheus metrics: a per-service registry fed by job hooks and refreshed at scrape time."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from aimport.service.health import HealthView
from aimport.service.notify.outbox import OUTCOMES as NOTIFY_OUTCOMES
from aimport.store import campaigns as campaign_store
from aimport.store.connect import open_db
from aimport.store.db import StoreError, retry_count

if TYPE_CHECKING:
    from aimport.importing.outcome import Totals

ROW_OUTCOMES = ("created", "updated", "deleted", "unchanged", "rejected")


class Metrics:
    """The observer passed to JobContext (aimport.service.observer.ImportObserver): each hook updates its metric."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.detected = Counter("aimport_files_detected", "Files detected and handed to the scheduler", ["type"], registry=r)
        self.imports = Counter("aimport_imports", "Finished imports", ["type", "status"], registry=r)
        self.rows = Counter("aimport_rows", "Rows imported, by outcome", ["outcome"], registry=r)
        self.duration = Histogram("aimport_import_duration_seconds", "Import duration from start to archive", ["type"],
                                  buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600), registry=r)
        self.archive_failures = Counter("aimport_archive_failures", "Archive attempts that failed (retried)", ["type"], registry=r)
        self.exports = Counter("aimport_campaign_exports", "Campaign exports written", registry=r)
        self.in_flight = Gauge("aimport_imports_in_flight", "Imports running now", registry=r)
        self.limit = Gauge("aimport_concurrency_limit", "Maximum imports at once now (max_concurrent, or "
                           "office_max_concurrent during office_hours)", registry=r)
        self.held = Gauge("aimport_held_files", "Large files held in their drop folder until office hours end", registry=r)
        self.pending = Gauge("aimport_pending_files", "Files detected but not yet claimed", registry=r)
        self.oldest = Gauge("aimport_oldest_pending_age_seconds", "Age of the oldest pending file (by mtime)", registry=r)
        self.campaigns = Gauge("aimport_campaigns", "Campaigns by status", ["status"], registry=r)
        self.last_scan = Gauge("aimport_last_scan_timestamp_seconds", "Unix time of the last full folder scan", registry=r)
        self.lag = Gauge("aimport_event_loop_lag_seconds", "Event-loop lag of the last heartbeat", registry=r)
        self.store_retries = Counter("aimport_store_retries", "Store transactions run again after a deadlock or "
                                     "serialization failure (imports and the campaign supervisor)", registry=r)
        self.store_rtt = Gauge("aimport_store_round_trip_seconds", "One round trip to the system store at the last "
                               "scrape", registry=r)
        self.store_up = Gauge("aimport_store_up", "1 when the system store answered at the last scrape", registry=r)
        self._service_retries = 0
        turn_buckets = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
        self.turn_wait = Histogram("aimport_store_turn_wait_seconds", "Time an import waited for the write turn of "
                                   "its tables (a wait that timed out, and deferred the import, counts too)",
                                   ["type"], buckets=turn_buckets, registry=r)
        self.turn_hold = Histogram("aimport_store_turn_hold_seconds", "Time an import held the write turn of its "
                                   "tables (from taking it to COMMIT)", ["type"], buckets=turn_buckets, registry=r)
        self.lag_max = Gauge("aimport_event_loop_lag_max_seconds", "Largest event-loop lag since start", registry=r)
        self.notifications = Counter("aimport_notifications", "Webhook notifications (notify_url) by outcome: sent, "
                                     "retried (a try failed, tried again), failed (given up), dropped (queue "
                                     "full, or still queued at stop)", ["outcome"], registry=r)
        for outcome in NOTIFY_OUTCOMES:
            self.notifications.labels(outcome)

    # --- hooks (ImportObserver, and the supervisor's campaign_exported) -----------------------------------------------------------
    def file_detected(self, import_type: str) -> None:
        self.detected.labels(import_type).inc()

    def import_started(self, import_type: str) -> None:
        self.in_flight.inc()

    def import_finished(self, import_type: str) -> None:
        self.in_flight.dec()

    def import_done(self, import_type: str, status: str, totals: Totals | None, seconds: float) -> None:
        self.imports.labels(import_type, status).inc()
        for k in ROW_OUTCOMES:
            n = getattr(totals, k, 0)
            if n:
                self.rows.labels(k).inc(n)
        self.duration.labels(import_type).observe(seconds)

    def archive_failed(self, import_type: str) -> None:
        self.archive_failures.labels(import_type).inc()

    def scanned(self) -> None:
        self.last_scan.set(time.time())

    def limit_changed(self, n: int) -> None:
        self.limit.set(n)

    def store_retried(self, n: int) -> None:
        self.store_retries.inc(n)

    def notified(self, outcome: str) -> None:
        """One notification's outcome (aimport.service.notify.outbox: sent, retried, failed, dropped)."""
        self.notifications.labels(outcome).inc()

    def store_turn(self, import_type: str, wait_s: float, hold_s: float | None) -> None:
        self.turn_wait.labels(import_type).observe(wait_s)
        if hold_s is not None:
            self.turn_hold.labels(import_type).observe(hold_s)

    def campaign_exported(self, detail: dict[str, Any]) -> None:
        if not detail.get("recovered"):
            self.exports.inc()

    # --- scrape -----------------------------------------------------------------------------
    def refresh(self, view: HealthView) -> None:
        """Gauges read at scrape time (runs in a worker thread)."""
        self.limit.set(view.limiter.total_tokens)
        self.lag.set(view.loop.lag_s)
        self.lag_max.set(view.loop.max_lag_s)
        retries = retry_count()  # this process's own (the campaign supervisor's); imports report theirs
        if retries > self._service_retries:
            self.store_retries.inc(retries - self._service_retries)
            self._service_retries = retries
        if view.store is not None:
            check = view.store.check()
            self.store_up.set(1 if check.ok else 0)
            self.store_rtt.set(check.round_trip_s)
        if view.intake is not None:
            # handed-over paths stay pending until their import ends; only files still in the drop folder count
            mtimes = []
            for p in view.intake.pending_paths():
                try:
                    mtimes.append(os.stat(p).st_mtime)
                except OSError:
                    pass
            self.pending.set(len(mtimes))
            self.oldest.set(max(0.0, time.time() - min(mtimes)) if mtimes else 0)
            self.held.set(len(view.intake.held_files()))
        try:
            with open_db(view.settings.store_address, timeout=2) as db:
                by_status = campaign_store.status_counts(db)
        except StoreError:
            by_status = {}
        for status in campaign_store.STATUSES:
            self.campaigns.labels(status).set(by_status.get(status, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
