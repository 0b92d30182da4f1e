"""The supervisor's event-loop side: services, the reconcile tick, probes, stats.

Everything here runs on the supervisor thread's own loop.  Exits arrive as
pidfd events the moment they happen; the tick (500 ms by default) only starts
services whose backoff ran out, starts health probes that are due, and samples
stats.  After every change the engine publishes a new immutable snapshot,
which other threads read without a lock.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import threading
from collections.abc import Mapping
from dataclasses import replace

from palyra_tui.config import Config
from palyra_tui.errors import SupervisorError
from palyra_tui.models import (
    HealthStatus,
    ServiceEvent,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.clock import Clock
from palyra_tui.supervisor.definitions import (
    LaunchPlan,
    RuntimeSecrets,
    ServiceDefinition,
    plan_launch,
    with_node_rpc,
)
from palyra_tui.supervisor.health import HealthProber, ProbeHistory
from palyra_tui.supervisor.journal import ServiceJournal
from palyra_tui.supervisor.lineage import LineageTracker, become_subreaper, kill_tracked
from palyra_tui.supervisor.logbuffer import LogStore
from palyra_tui.supervisor.reaper import Reaper
from palyra_tui.supervisor.service import ManagedService, ServiceHooks
from palyra_tui.supervisor.stats import StatsSampler
from palyra_tui.supervisor.subscriptions import EventSubscription, LogSubscription
from palyra_tui.text import Redactor

log = logging.getLogger(__name__)

_STOP_WAVES = (
    (ServiceKind.CUSTOM,),
    (ServiceKind.NODE_HOST,),
    (ServiceKind.BROWSERD,),
    (ServiceKind.GATEWAY,),
)


class Engine:
    """Owns the managed services; every method runs on the supervisor loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        config: Config,
        definitions: tuple[ServiceDefinition, ...],
        store: LogStore,
        redactor: Redactor,
        clock: Clock,
        tokens: RuntimeSecrets,
        environ: Mapping[str, str],
        *,
        stats_interval: float,
        batch_interval: float,
        journal: ServiceJournal | None = None,
        probes: ProbeHistory | None = None,
    ) -> None:
        self.loop = loop
        self.config = config
        self.clock = clock
        self.store = store
        self.reaper = Reaper()
        self.lineage = LineageTracker(secrets.token_hex(6))
        self._tokens = tokens
        self._environ = dict(environ)
        self._prober = HealthProber(clock.time)
        self._sampler = StatsSampler()
        self._stats_interval = stats_interval
        self._stats_due = 0.0
        self._sampling = False
        self._batch_interval = batch_interval
        self._flush_timer: asyncio.TimerHandle | None = None
        self._notified_lines = 0
        self._early_lines = max(1, store.capacity // 4)
        self._sinks_lock = threading.Lock()
        self._log_sinks: tuple[LogSubscription, ...] = ()
        self._event_sinks: tuple[EventSubscription, ...] = ()
        self._announced: dict[str, tuple[ServiceState, int | None, int, float | None, str]] = {}
        self._held: dict[str, bool] = {}
        self._overlays: dict[str, dict[str, str]] = {}
        self.journal = journal if journal is not None else ServiceJournal()
        """Every event published, and each hold or release (a support bundle's timeline)."""
        self.probes = probes if probes is not None else ProbeHistory()
        """What the health probes said (a support bundle's health history)."""
        hooks = ServiceHooks(
            loop=loop,
            clock=clock,
            redactor=redactor,
            reaper=self.reaper,
            lineage=self.lineage,
            plan=self._plan,
            on_change=self._changed,
            on_logs=self._logs_written,
        )
        self.services: dict[str, ManagedService] = {}
        for definition in definitions:
            writer = store.add_service(definition.name)
            self.services[definition.name] = ManagedService(definition, writer, hooks)
        self.snapshot = self._build_snapshot()

    # Lifecycle -------------------------------------------------------------

    def open(self) -> None:
        """Adopt orphaned descendants, start the watchdog, describe disabled services."""
        self.lineage.subreaper = become_subreaper()
        self.reaper.start(self.lineage.instance)
        if self.reaper.pid is not None:
            self.lineage.own(self.reaper.pid)
        else:
            log.error("could not start the watchdog: services would outlive palyra-tui if killed")
        for service in self.services.values():
            if not service.definition.enabled:
                service.reason = service.definition.disabled_reason
        self.publish()

    async def close(self) -> None:
        """Stop every service, then release the probe connections and the reaper."""
        await self.stop_all("palyra-tui is shutting down")
        await self._prober.aclose()
        self.reaper.close()

    def kill_everything(self) -> None:
        """Last resort when a clean stop hung: SIGKILL every group (any thread)."""
        self.kill_groups()
        self.reaper.close()

    def kill_groups(self) -> None:
        """SIGKILL every service's process group and known descendant at once.

        Exits are recorded as usual.
        """
        for service in list(self.services.values()):
            child = service.child
            if child is not None:
                child.signal_group(signal.SIGKILL)
        for process in self.lineage.known():
            kill_tracked(process)

    # Operations ------------------------------------------------------------

    def start_all(self) -> None:
        """Start every enabled service, built-ins first (as the desktop does at launch)."""
        for service in self.services.values():
            if service.definition.enabled:
                service.start()

    def redefine(self, config: Config, definitions: tuple[ServiceDefinition, ...]) -> None:
        """Start the services as ``definitions`` say from now on (a profile switch: the
        daemons' directory moves); every service must have stopped."""
        if any(s.child is not None for s in self.services.values()):
            raise SupervisorError("the services must be stopped before they are redefined")
        self.config = config
        for definition in definitions:
            service = self.services.get(definition.name)
            if service is not None:
                service.definition = definition
                if not definition.enabled:
                    service.reason = definition.disabled_reason
        self.publish()

    def reconsider(self, definitions: tuple[ServiceDefinition, ...]) -> None:
        """Take up ``definitions`` for every stopped service (the node host becomes enabled
        once it is enrolled); a running one keeps its own until it stops."""
        for definition in definitions:
            service = self.services.get(definition.name)
            if service is None or service.child is not None:
                continue
            was = service.definition
            service.definition = definition
            if definition.enabled != was.enabled and service.state is ServiceState.STOPPED:
                # Only the reason it was off changes; why it failed or waits is kept.
                service.reason = "" if definition.enabled else definition.disabled_reason
        self.publish()

    def overlay(self, name: str, env: Mapping[str, str]) -> None:
        """Add ``env`` to the environment of ``name``'s next starts ({} removes it)."""
        if env:
            self._overlays[name] = dict(env)
        else:
            self._overlays.pop(name, None)

    def forget_history(self) -> None:
        """Forget every service's logs, restart count and last exit (a profile switch, once
        every service is stopped: what one profile's daemons did is not shown under another)."""
        for service in self.services.values():
            if service.child is not None:
                continue
            self.store.clear(service.name)
            service.restarts = 0
            service.attempt = 0
            service.last_exit = None
            service.spawn_error = ""
            service.next_attempt_mono = None
            service.next_attempt_at = None
        self.publish()

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        """Stop services in waves: custom, node host, browserd, then the gateway."""
        for kinds in _STOP_WAVES:
            wave = [s.stop(reason) for s in self.services.values() if s.kind in kinds]
            if wave:
                await asyncio.gather(*wave)

    async def restart(self, name: str) -> None:
        """Stop (gracefully) and start again."""
        service = self.services[name]
        await service.stop()
        service.start()

    def tick(self) -> None:
        """One reconcile pass; a failure is logged and the next tick tries again."""
        try:
            self._tick()
        except Exception:
            log.exception("supervisor tick failed")

    def _tick(self) -> None:
        now = self.clock.monotonic()
        self._check_watchdog(now)
        for service in self.services.values():
            service.reconcile()
            if service.state.is_up and service.pid is not None and not service.probing:
                url = service.definition.health_url(service.endpoints)
                if url is not None and now >= service.probe_due:
                    service.probing = True
                    service.probe_due = now + service.definition.config.health_interval
                    self.loop.create_task(self._probe(service, url))
        if not self._sampling and now >= self._stats_due:
            leaders = {s.pid: s.mark for s in self.services.values() if s.pid is not None}
            if leaders:
                self._sampling = True
                self._stats_due = now + self._stats_interval
                self.loop.create_task(self._sample(leaders))
        self.publish()

    def _check_watchdog(self, now: float) -> None:
        """Say so when the watchdog was lost, and replace it (the reaper does)."""
        loss = self.reaper.check(now)
        if loss is None:
            return
        self.lineage.disown(loss.pid)
        if loss.replaced_by is None:
            log.error("%s", loss.sentence())
            return
        self.lineage.own(loss.replaced_by)
        log.warning("%s", loss.sentence())

    # Subscriptions ---------------------------------------------------------

    def add_log_sink(self, sink: LogSubscription) -> None:
        """Register a log subscription (any thread)."""
        with self._sinks_lock:
            self._log_sinks = (*self._log_sinks, sink)

    def remove_log_sink(self, sink: LogSubscription) -> None:
        """Unregister a log subscription (any thread)."""
        with self._sinks_lock:
            self._log_sinks = tuple(s for s in self._log_sinks if s is not sink)

    def add_event_sink(self, sink: EventSubscription) -> None:
        """Register an event subscription (any thread)."""
        with self._sinks_lock:
            self._event_sinks = (*self._event_sinks, sink)

    def remove_event_sink(self, sink: EventSubscription) -> None:
        """Unregister an event subscription (any thread)."""
        with self._sinks_lock:
            self._event_sinks = tuple(s for s in self._event_sinks if s is not sink)

    # Internals -------------------------------------------------------------

    def _plan(self, definition: ServiceDefinition) -> LaunchPlan:
        plan = plan_launch(definition, self.config, self._tokens, self._environ)
        overlay = self._overlays.get(definition.name)
        if overlay:
            plan = replace(plan, env={**plan.env, **overlay})
        if definition.config.kind is ServiceKind.NODE_HOST:
            plan = replace(plan, argv=with_node_rpc(plan.argv, self._node_rpc_address()))
        return plan

    def _node_rpc_address(self) -> str:
        """Where the gateway's node RPC listens, as it last announced ("" before it has)."""
        for service in self.services.values():
            if service.kind is ServiceKind.GATEWAY and service.child is not None:
                return service.endpoints.get("node_rpc_listen_addr", "")
        return ""

    async def _probe(self, service: ManagedService, url: str) -> None:
        pid = service.pid
        timeout = service.definition.config.health_timeout
        try:
            result = await self._prober.probe(url, timeout)
        except Exception:  # the prober reports failures as results; this is a bug guard
            log.exception("health probe of %s failed", service.name)
            result = HealthStatus()
        if service.pid == pid and pid is not None:
            self.probes.record(service.name, result)
            service.set_health(result)
        else:
            service.probing = False

    async def _sample(self, leaders: dict[int, str]) -> None:
        try:
            samples = await asyncio.to_thread(self._sampler.sample, tuple(leaders))
            fresh, ended = await asyncio.to_thread(self.lineage.scan, leaders)
            self.reaper.watch_processes(fresh)
            self.reaper.forget_processes(ended)
        finally:
            self._sampling = False
        for service in self.services.values():
            pid = service.pid
            if pid is not None and pid in samples:
                service.stats = samples[pid]
        self.publish()

    def _changed(self, service: ManagedService) -> None:
        if not service.state.is_up and service.health != HealthStatus():
            service.health = HealthStatus()
        self.publish()
        announced = (
            service.state,
            service.pid,
            service.attempt,
            service.next_attempt_at,
            service.reason,
        )
        news = self._announced.get(service.name) != announced
        if not news and self._held.get(service.name, False) == service.held:
            return
        self._announced[service.name] = announced
        self._held[service.name] = service.held
        event = ServiceEvent(
            ts=self.clock.time(),
            service=service.name,
            state=service.state,
            pid=service.pid,
            reason=service.reason,
            exit=service.ended if not service.state.is_up else None,
            attempt=service.attempt,
            next_attempt_at=service.next_attempt_at,
            held=service.held,
        )
        self.journal.record(event)
        if news:
            # A hold or release alone changes no state: it is journaled, not announced.
            for sink in self._event_sinks:
                sink.push(event)

    def _logs_written(self) -> None:
        """Wake subscribers once per batch interval, or at once when a quarter ring arrived.

        Otherwise a flood rotates a ring past a subscriber that keeps up, before the
        interval is over.
        """
        if self.store.appended - self._notified_lines >= self._early_lines:
            if self._flush_timer is not None:
                self._flush_timer.cancel()
            self._flush_logs()
        elif self._flush_timer is None:
            self._flush_timer = self.loop.call_later(self._batch_interval, self._flush_logs)

    def _flush_logs(self) -> None:
        self._flush_timer = None
        self._notified_lines = self.store.appended
        self.publish()
        for sink in self._log_sinks:
            sink.notify()

    def publish(self) -> None:
        """Replace the shared snapshot (a single reference assignment)."""
        self.snapshot = self._build_snapshot()

    def _build_snapshot(self) -> SupervisorSnapshot:
        services = tuple(self._service_snapshot(s) for s in self.services.values())
        return SupervisorSnapshot(
            services=services,
            state_root=str(self.config.state_root),
            taken_at=self.clock.time(),
        )

    def _service_snapshot(self, service: ManagedService) -> ServiceSnapshot:
        return ServiceSnapshot(
            name=service.name,
            kind=service.kind,
            state=service.state,
            desired=service.desired,
            enabled=service.definition.enabled,
            held=service.held,
            pid=service.pid,
            started_at=service.started_at if service.state.is_up else None,
            restarts=service.restarts,
            attempt=service.attempt,
            max_restarts=service.definition.config.max_restarts,
            next_attempt_at=service.next_attempt_at,
            last_exit=service.last_exit,
            reason=service.reason,
            health=service.health,
            stats=service.stats if service.state.is_up else None,
            logs=self.store.counters(service.name),
            binary=service.binary,
            endpoints=tuple(sorted(service.endpoints.items())),
        )
