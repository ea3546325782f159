"""``aimport run``: the long-running service, composed of task groups.

first, holding the state directory (statedir.py: one service per state directory), from the start
  http            /healthz /readyz /metrics (when --http is set); /readyz says what start-up waits for
  heartbeat       event-loop lag for /healthz
  record          STATE/service.json written again when it is deleted or damaged
  signals         SIGTERM/SIGINT stop claiming (during start-up: stop at once); SIGHUP reloads the config file
  notifications   the webhook outbox (when notify_url is set: aimport.service.notify); stopped last, after a short
                  grace for the service_stopped notification
then, once the store is set up and the audit trail open, the root task group
  scheduler       detection (events, scans, settle) + per-type lanes + jobs
  supervisor      campaign completion and exactly-once exports
  office hours    the limit of the moment at each boundary of office_hours (when set: limitswitch.py)
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import anyio

from aimport import filelock, staterecord
from aimport.campaigns.supervisor import SupervisorSetup, run_supervisor
from aimport.errors import environment_trouble
from aimport.importing.logonuser import LogonUserError
from aimport.layout import IMPORT_TYPES
from aimport.service import statedir, statedisk
from aimport.service.backoff import Backoff
from aimport.service.detector import Detector
from aimport.service.health import HealthView, heartbeat
from aimport.service.jobcontext import JobContext
from aimport.service.lanes import Scheduler
from aimport.service.metrics import Metrics
from aimport.service.notify import events as notify
from aimport.service.notify.events import NoNotifier, Notifier
from aimport.service.notify.outbox import Outbox
from aimport.service.officehours.holds import HoldQueue
from aimport.service.officehours.limitswitch import OFFICE, Limits, LimitSwitch, log_office_hours
from aimport.service.officehours.schedule import OfficeHours, SystemClock
from aimport.service.recovery import recover
from aimport.service.retention import run_retention
from aimport.service.storeprobe import StoreProbe
from aimport.service.storesetup import prepare_store
from aimport.service.unitbeat import run_heartbeat
from aimport.settings import Settings, SettingsError, from_sources
from aimport.store import connect as store_connect
from aimport.store.audit import Audit
from aimport.store.connect import StoreSession
from aimport.store.db import StoreUnavailable, redact
from aimport.store.schema import SchemaTooNew
from aimport.web.server import HttpAddressError, listen_http, serve_http

logger = logging.getLogger(__name__)

__all__ = ["Service", "StartupError", "run_service"]

RESTART_ONLY = ("office_hours", "time_zone", "large_file_rows", "large_file_mb",  # SIGHUP does not apply these
                "notify_url", "notify_format", "notify_held_after_min", "notify_timeout_s")


class StartupError(Exception):
    """Start-up cannot continue; the message is one line for the operator."""


@dataclass
class Service:
    """The running service's parts, shared by its task groups."""

    settings: Settings
    ctx: JobContext  # holds the one limit on imports at once (ctx.limiter)
    health: HealthView  # what /healthz, /readyz and /metrics read
    metrics: Metrics
    stop: anyio.Event = field(default_factory=anyio.Event)
    limits: LimitSwitch | None = None  # the limit of the moment (office hours); None: max_concurrent, no schedule

    def limit_switch(self) -> LimitSwitch:
        if self.limits is None:
            self.limits = LimitSwitch(self.ctx, OfficeHours.parse(""), SystemClock(),
                                      Limits(int(self.ctx.limiter.total_tokens), self.settings.office_max_concurrent))
        return self.limits


async def run_service(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    try:
        settings.validate_for_run()
        schedule = OfficeHours.parse(settings.office_hours, settings.time_zone)
    except SettingsError as exc:
        raise StartupError(str(exc)) from None
    os.environ["AIMPORT_SERVICE_PID"] = str(os.getpid())
    store_connect.configure(StoreSession(f"{settings.server}_{settings.unit}", "service", settings.store_turn_timeout,
                                         settings.store_idle_timeout, settings.store_lock_timeout))
    os.umask(0o022)
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    try:  # the one service on this state directory, before anything is written in it or in the root
        held = statedir.lock(settings.state_dir)
    except statedir.StateDirInUse as exc:
        raise StartupError(str(exc)) from None
    try:
        try:  # --http first: an address it cannot listen on (a port in use) stops the start, one line naming it
            http = await listen_http(settings.http) if settings.http else None
        except HttpAddressError as exc:
            raise StartupError(str(exc)) from None
        settings.work_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        statedir.remove_left_over(settings.work_dir)  # scratch files of imports whose process died
        # lets `aimport status --state-dir STATE` find root, server and unit without flags (staterecord.write
        # leaves any password out of the store setting)
        record = statedir.RecordKeeper(settings.state_dir, staterecord.ServiceRecord(
            str(settings.layout.root), settings.server, settings.unit, settings.store))
        record.write()
        disk = statedisk.StateDisk(settings.state_dir)
        health = HealthView(settings, anyio.CapacityLimiter(settings.max_concurrent), state_disk=disk,
                            store=StoreProbe(settings.store_address), starting="setting up the system store")
        metrics = Metrics()
        outbox = Outbox.for_settings(settings, metrics.notified)  # None without notify_url
        failed: list[StartupError] = []
        stop = anyio.Event()
        running: list[Service] = []  # the service, once start-up is done
        async with anyio.create_task_group() as early:  # /healthz, /readyz and /metrics answer from the start
            early.start_soon(_signals, stop, running, early.cancel_scope)
            early.start_soon(heartbeat, health.loop, settings.lag_warn_ms)
            early.start_soon(record.keep)  # service.json deleted or damaged while running: written again
            if outbox is not None:  # notifications, sent from a queue (never delaying imports)
                early.start_soon(outbox.run, name="notifications")
            if settings.http and http is not None:
                early.start_soon(serve_http, settings.http, http, health, metrics, name="http")
            try:
                await _run(settings, schedule, health, metrics, stop, running, outbox or NoNotifier())
            except StartupError as exc:
                failed.append(exc)
            if outbox is not None:  # the service_stopped notification (and what is queued) get a short grace
                await outbox.finish()
            early.cancel_scope.cancel()
        if failed:
            raise failed[0]
    finally:
        filelock.release(held)
    return 0


async def _run(settings: Settings, schedule: OfficeHours, health: HealthView, metrics: Metrics, stop: anyio.Event,
               running: list[Service], notifier: Notifier) -> None:
    layout, clock, disk, limiter = settings.layout, SystemClock(), health.state_disk, health.limiter
    assert disk is not None
    survey = layout.survey(IMPORT_TYPES if settings.enabled else ())  # never raises; the scheduler reports
    for problem in ([] if settings.enabled else survey.problems):
        logger.error(f"cannot use the folder {problem.folder}: it {problem.problem}")
    try:  # a full state disk at start is waited out (logged), never a start-up failure
        created_user = await _set_up_store(settings, disk, health)
    except (LogonUserError, SchemaTooNew) as exc:
        raise StartupError(str(exc)) from None
    health.starting = "opening the audit trail"
    async with statedisk.opened_audit(disk, Audit(settings.audit_db)) as audit:
        health.audit = audit
        if created_user:
            await audit.event("logon_user_created", None, login=settings.logon_user,
                              rights=["ImportExport", "ManageCampaigns"])
        audit_uuid = await statedisk.patiently(disk, "read the audit trail's id", audit.uuid,
                                               retry_if=environment_trouble)
        ctx = JobContext(settings, layout, audit, audit_uuid, limiter, metrics, state_disk=disk, notifier=notifier)
        limits = LimitSwitch(ctx, schedule, clock, Limits(settings.max_concurrent, settings.office_max_concurrent))
        limiter.total_tokens = limits.current_limit()  # office_max_concurrent when started in office hours
        svc = Service(settings, ctx, health, metrics, stop, limits)
        running.append(svc)
        metrics.limit_changed(limiter.total_tokens)
        await audit.event("service_started", None, root=str(settings.root), server=settings.server,
                          unit=settings.unit, enabled=settings.enabled, max_concurrent=settings.max_concurrent,
                          pid=os.getpid())
        logger.info(f"aimport started: root {layout.automatic}, state {settings.state_dir}, "
                 f"store {redact(settings.store_address)}, "
                 f"max {settings.max_concurrent} concurrent import(s), logon user {settings.logon_user}")
        health.starting = ""
        notifier.post(notify.service_started(str(layout.automatic), limiter.total_tokens, settings.enabled))
        async with anyio.create_task_group() as root:
            root.start_soon(run_retention, svc.ctx.audit, svc.settings)
            root.start_soon(audit.watch)  # a deleted or replaced audit.sqlite is noticed and recreated
            root.start_soon(run_heartbeat, health, f"{settings.server}_{settings.unit}", name="units heartbeat")
            root.start_soon(run_supervisor, _supervisor_setup(settings, audit, metrics, notifier), name="supervisor")
            if schedule.enabled:
                log_office_hours(settings, schedule)
                root.start_soon(limits.run, name="office hours")  # switches the limit at each boundary
            if settings.enabled:
                recovered = await recover(ctx)
                if recovered:
                    logger.info(f"recovered {recovered} interrupted import(s)")
                detector = Detector(layout, settings.settle_ms / 1000, settings.max_pending)
                scheduler = Scheduler(ctx, detector, stop=svc.stop,
                                      holds=HoldQueue.for_settings(settings, schedule, clock))
                limits.listeners.append(scheduler.window_changed)  # held files go when office hours end
                svc.health.intake = scheduler
                logger.info(f"watching {len(IMPORT_TYPES)} folders under {layout.automatic}"
                         + (f" (polling every {settings.poll_ms} ms)" if settings.poll else ""))
                await scheduler.run(settings.grace_s, poll=settings.poll, poll_ms=settings.poll_ms,
                                    rescan_s=settings.rescan_s)
            else:
                logger.warning("automatic import is disabled (--disabled): no folders are watched; "
                            "the campaign supervisor and health checks keep running")
                await svc.stop.wait()
            root.cancel_scope.cancel()
        max_lag_ms = svc.health.loop.max_lag_s * 1000
        # best effort: stopping must not wait for space on the state disk
        await audit.try_event("service_stopped", None, pid=os.getpid(), max_loop_lag_ms=round(max_lag_ms, 1))
        logger.info(f"aimport stopped (largest event-loop lag {max_lag_ms:.1f} ms)")
        notifier.post(notify.service_stopped())


async def _set_up_store(settings: Settings, disk: statedisk.StateDisk, health: HealthView) -> bool:
    """Create or upgrade the store's tables and check the logon user, waiting out a full state disk (SQLite)
    or a store server that does not answer yet (PostgreSQL starting next to the sidecar: /readyz says so)."""
    def prepare() -> bool:
        try:
            return prepare_store(settings)
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, sqlite3.Error):  # the SQLite file's disk: the state disk's own handling
                raise exc.__cause__ from None
            raise

    backoff = Backoff()
    while True:
        try:
            return await statedisk.patiently(disk, "set up the system store", lambda: anyio.to_thread.run_sync(prepare),
                                             retry_if=environment_trouble)
        except StoreUnavailable as exc:
            if not exc.transient:
                raise StartupError(str(exc)) from None
            logger.error(f"{exc}; retrying in {backoff.delay:g}s")
            health.starting = f"waiting for the system store: {exc}"
            await backoff.wait()


def _supervisor_setup(settings: Settings, audit: Audit, metrics: Metrics, notifier: Notifier) -> SupervisorSetup:
    def exported(detail: dict[str, Any]) -> None:  # each campaign_exported event: the metric, and notify_url
        metrics.campaign_exported(detail)
        notifier.post(notify.campaign_exported(detail))

    return SupervisorSetup(settings.store_address, settings.layout.export_dir, audit, settings.supervise_s,
                           settings.demo_rate if settings.demo_dialer else None, exported)


async def _signals(stop: anyio.Event, running: list[Service], starting: anyio.CancelScope) -> None:
    """SIGTERM/SIGINT stop the service (during start-up: at once, nothing runs yet); SIGHUP reloads the config file."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for signum in signals:
            if signum == signal.SIGHUP:
                if running:
                    await _reload(running[0])
                else:
                    logger.warning("SIGHUP during start-up: ignored (nothing to reload yet)")
                continue
            logger.info(f"received {signal.Signals(signum).name}: shutting down")
            stop.set()
            if not running:  # still waiting for the store or the state disk: no import to wait for
                starting.cancel()


async def _reload(svc: Service) -> None:
    """SIGHUP: re-read the config file (and environment) and apply what can change live."""
    if svc.settings.config is None:  # nothing to re-read: keep a --max-concurrent flag's value
        logger.warning("SIGHUP: no --config file (AIMPORT_CONFIG) to reload; nothing changed")
        return
    for name in ("max_concurrent", "office_max_concurrent"):
        if os.environ.get(f"AIMPORT_{name.upper()}"):
            logger.warning(f"SIGHUP: AIMPORT_{name.upper()} is set and overrides {name} in the config file")
    try:
        fresh = from_sources({}, config=svc.settings.config)
    except SettingsError as exc:
        logger.error(f"reload failed, keeping the current settings: {exc}")
        return
    restart = [n for n in RESTART_ONLY if getattr(fresh, n) != getattr(svc.settings, n)]
    if restart:
        logger.warning(f"SIGHUP: {', '.join(restart)} changed in the config file; that takes a restart")
    switch = svc.limit_switch()  # the limit in force follows the office-hours window
    was = switch.limits
    new = Limits(fresh.max_concurrent if fresh.max_concurrent >= 1 else was.outside,
                 fresh.office_max_concurrent if fresh.office_max_concurrent >= 1 else was.office)
    if new == was:
        logger.info("configuration reloaded: nothing to change")
        return
    old, window = svc.ctx.limiter.total_tokens, switch.current_window()
    limit = new.office if window == OFFICE else new.outside
    detail: dict[str, object] = {"max_concurrent": new.outside, "previous": was.outside}
    if switch.schedule.enabled:
        detail.update(office_max_concurrent=new.office, previous_office=was.office, window=window, limit=limit)
    # recorded before it shows (metrics); never waits for the state disk: SIGTERM comes this way too
    await svc.ctx.audit.try_event("settings_reloaded", None, **detail)
    switch.reload(new)  # the one limit (lanes and recovery) and the metric
    if limit != old:
        logger.info(f"max concurrent imports changed from {old} to {limit}"
                 + (f" ({window.replace('_', ' ')})" if switch.schedule.enabled else ""))
    else:
        logger.info(f"limits reloaded: {new.office} in office hours, {new.outside} outside; "
                 f"{limit} at once now ({window.replace('_', ' ')})")
