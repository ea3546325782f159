"""``aimport run``: the long-running service, composed of task groups.

root task group
  signals         SIGTERM/SIGINT stop claiming; SIGHUP reloads the config file
  scheduler       detection (events, scans, settle) + per-type lanes + jobs
  supervisor      campaign completion and exactly-once exports
  http            /healthz /readyz /metrics (when --http is set)
  heartbeat       event-loop lag for /healthz
"""

from __future__ import annotations

import os
import signal
import sqlite3
from dataclasses import dataclass, field

import anyio

from aimport import servicelog, staterecord
from aimport.campaigns.supervisor import SupervisorSetup, run_supervisor
from aimport.importing.logonuser import LogonUserError
from aimport.layout import IMPORT_TYPES
from aimport.service import statedisk
from aimport.service.health import HealthView, serve_http
from aimport.service.intake import Detector
from aimport.service.jobcontext import JobContext
from aimport.service.lanes import Scheduler
from aimport.service.metrics import Metrics
from aimport.service.recovery import recover
from aimport.service.storesetup import prepare_store
from aimport.settings import Settings, SettingsError, from_sources
from aimport.store.audit import Audit

__all__ = ["Service", "StartupError", "run_service"]


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


async def run_service(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    log = servicelog.get()
    try:
        settings.validate_for_run()
    except SettingsError as exc:
        raise StartupError(str(exc)) from None
    os.environ["AIMPORT_SERVICE_PID"] = str(os.getpid())
    os.umask(0o022)
    layout = settings.layout
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    settings.work_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    try:  # lets `aimport status --state-dir STATE` find root, server and unit without flags
        staterecord.write(settings.state_dir, staterecord.ServiceRecord(str(layout.root), settings.server, settings.unit))
    except OSError as exc:
        log.warning(f"cannot record root, server and unit in {settings.state_dir}: {exc.strerror or exc}")
    survey = layout.survey(IMPORT_TYPES if settings.enabled else ())  # never raises; the scheduler reports
    for problem in ([] if settings.enabled else survey.problems):
        log.error(f"cannot use the folder {problem.folder}: it {problem.problem}")
    disk = statedisk.StateDisk(settings.state_dir)
    try:  # a full state disk at start is waited out (logged), never a start-up failure
        created_user = await statedisk.patiently(disk, "set up the system store",
                                                 lambda: anyio.to_thread.run_sync(prepare_store, settings),
                                                 retry_if=statedisk.is_disk_trouble)
    except LogonUserError as exc:
        raise StartupError(str(exc)) from None
    async with statedisk.opened_audit(disk, Audit(settings.audit_db)) as audit:
        if created_user:
            await statedisk.event(disk, audit, "logon_user_created", None, login=settings.logon_user,
                                  rights=["ImportExport", "ManageCampaigns"])
        metrics = Metrics()
        audit_uuid = await statedisk.patiently(disk, "read the audit trail's id", audit.uuid,
                                               retry_if=statedisk.is_disk_trouble)
        limiter = anyio.CapacityLimiter(settings.max_concurrent)
        ctx = JobContext(settings, layout, audit, audit_uuid, limiter, metrics, state_disk=disk)
        svc = Service(settings, ctx, HealthView(settings, limiter, state_disk=disk, audit=audit), metrics)
        metrics.limit_changed(settings.max_concurrent)
        await statedisk.event(ctx.state_disk, audit, "service_started", None, root=str(settings.root),
                              server=settings.server, unit=settings.unit, enabled=settings.enabled,
                              max_concurrent=settings.max_concurrent, pid=os.getpid())
        log.info(f"aimport started: root {layout.automatic}, state {settings.state_dir}, "
                 f"max {settings.max_concurrent} concurrent import(s), logon user {settings.logon_user}")
        async with anyio.create_task_group() as root:
            root.start_soon(_signals, svc)
            root.start_soon(_heartbeat, svc)
            root.start_soon(_retention, svc)
            root.start_soon(audit.watch)  # a deleted or replaced audit.sqlite is noticed and recreated
            root.start_soon(run_supervisor, _supervisor_setup(settings, audit, metrics), name="supervisor")
            if settings.http:
                root.start_soon(serve_http, settings.http, svc.health, metrics, name="http")
            if settings.enabled:
                recovered = await recover(ctx)
                if recovered:
                    log.info(f"recovered {recovered} interrupted import(s)")
                detector = Detector(layout, settings.settle_ms / 1000, settings.max_pending)
                scheduler = Scheduler(ctx, detector, stop=svc.stop)
                svc.health.intake = scheduler
                log.info(f"watching {len(IMPORT_TYPES)} folders under {layout.automatic}"
                         + (f" (polling every {settings.poll_ms} ms)" if settings.poll else ""))
                await scheduler.run(settings.grace_s, poll=settings.poll, poll_ms=settings.poll_ms,
                                    rescan_s=settings.rescan_s)
            else:
                log.warning("automatic import is disabled (--disabled): no folders are watched; "
                            "the campaign supervisor and health checks keep running")
                await svc.stop.wait()
            root.cancel_scope.cancel()
        max_lag_ms = svc.health.loop.max_lag_s * 1000
        try:  # best effort: stopping must not wait for space on the state disk
            await audit.event("service_stopped", None, pid=os.getpid(), max_loop_lag_ms=round(max_lag_ms, 1))
        except sqlite3.Error as exc:
            log.error(f"cannot record the audit event service_stopped: {exc}")
        log.info(f"aimport stopped (largest event-loop lag {max_lag_ms:.1f} ms)")
    return 0


def _supervisor_setup(settings: Settings, audit: Audit, metrics: Metrics) -> SupervisorSetup:
    return SupervisorSetup(settings.system_db, settings.layout.export_dir, audit, settings.supervise_s,
                           settings.demo_rate if settings.demo_dialer else None, metrics.campaign_exported)


async def _heartbeat(svc: Service) -> None:
    """Measures event-loop lag: a beat every 250 ms that should arrive on time."""
    loop = svc.health.loop
    while True:
        before = anyio.current_time()
        await anyio.sleep(0.25)
        now = anyio.current_time()
        loop.beat(now, max(0.0, now - before - 0.25))
        if loop.lag_s * 1000 > svc.settings.lag_warn_ms:
            servicelog.get().warning(f"the event loop was held up for {loop.lag_s * 1000:.0f} ms (health and new claims wait meanwhile)")


async def _retention(svc: Service) -> None:
    """Prune finished audit rows older than --audit-retention-days, at start and daily."""
    while True:
        try:
            pruned = await svc.ctx.audit.prune(svc.settings.audit_retention_days)
        except sqlite3.Error as exc:  # the state disk may be full: tried again tomorrow, never a stop
            servicelog.get().error(f"audit retention: cannot prune the audit trail now: {exc}")
            pruned = 0
        if pruned:
            servicelog.get().info(f"audit retention: pruned {pruned} import(s) older than {svc.settings.audit_retention_days} days")
        await anyio.sleep(86400)


async def _signals(svc: Service) -> None:
    log = servicelog.get()
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for signum in signals:
            if signum == signal.SIGHUP:
                await _reload(svc)
                continue
            log.info(f"received {signal.Signals(signum).name}: shutting down")
            svc.stop.set()


async def _reload(svc: Service) -> None:
    """SIGHUP: re-read the config file (and environment) and apply what can change live."""
    log = servicelog.get()
    if svc.settings.config is None:  # nothing to re-read: keep a --max-concurrent flag's value
        log.warning("SIGHUP: no --config file (AIMPORT_CONFIG) to reload; nothing changed")
        return
    if os.environ.get("AIMPORT_MAX_CONCURRENT"):
        log.warning("SIGHUP: AIMPORT_MAX_CONCURRENT is set and overrides max_concurrent in the config file")
    try:
        fresh = from_sources({}, config=svc.settings.config)
    except SettingsError as exc:
        log.error(f"reload failed, keeping the current settings: {exc}")
        return
    old = svc.ctx.limiter.total_tokens
    if fresh.max_concurrent >= 1 and fresh.max_concurrent != old:
        try:  # recorded before it shows (metrics); never waits for the state disk: SIGTERM comes this way too
            await svc.ctx.audit.event("settings_reloaded", None, max_concurrent=fresh.max_concurrent, previous=old)
        except sqlite3.Error as exc:
            log.error(f"cannot record the audit event settings_reloaded: {exc}")
        svc.ctx.limiter.total_tokens = fresh.max_concurrent  # the one limit: lanes and recovery
        log.info(f"max concurrent imports changed from {old} to {fresh.max_concurrent}")
        svc.metrics.limit_changed(fresh.max_concurrent)
    else:
        log.info("configuration reloaded: nothing to change")
