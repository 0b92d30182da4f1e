"""The life of one supervised service: spawn, exit, backoff, hold, stop.

A :class:`ManagedService` lives on the supervisor's event loop and is touched
only from there.  It owns at most one :class:`~.process.Child` at a time and
reports every state change through ``on_change``.

The reason of a state says why the service is in it and what happens next;
the exit that caused it travels beside it (:attr:`ManagedService.ended`), so
a reader that shows both never says "exited with code 3" twice.  Only
restarts the supervisor makes on its own count as restarts.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace

from palyra_tui.errors import PalyraError
from palyra_tui.models import (
    ExitInfo,
    HealthStatus,
    LogLevel,
    LogStream,
    ProcessStats,
    ServiceKind,
    ServiceState,
)
from palyra_tui.models.clock import Clock
from palyra_tui.supervisor import backoff
from palyra_tui.supervisor.definitions import LaunchPlan, ServiceDefinition
from palyra_tui.supervisor.health import SteadyLatency
from palyra_tui.supervisor.lineage import MARK_VAR, LineageTracker, kill_tracked, lineage_mark
from palyra_tui.supervisor.logbuffer import LogWriter
from palyra_tui.supervisor.logpump import LinePump
from palyra_tui.supervisor.process import Child, ExitStatus, group_members, spawn
from palyra_tui.supervisor.reaper import Reaper
from palyra_tui.text import Redactor, sanitize_line

PIPE_GRACE = 1.0
GROUP_GRACE = 2.0


@dataclass(slots=True)
class ServiceHooks:
    """What a service needs from the engine that runs it."""

    loop: asyncio.AbstractEventLoop
    clock: Clock
    redactor: Redactor
    reaper: Reaper
    lineage: LineageTracker
    plan: Callable[[ServiceDefinition], LaunchPlan]
    on_change: Callable[[ManagedService], None]
    on_logs: Callable[[], None]


class ManagedService:
    """Mutable state of one service; the engine snapshots it after each change."""

    def __init__(
        self, definition: ServiceDefinition, writer: LogWriter, hooks: ServiceHooks
    ) -> None:
        self.definition = definition
        self.writer = writer
        self.hooks = hooks
        self.state = ServiceState.STOPPED
        self.desired = False
        self.held = False
        self.child: Child | None = None
        self.mark = ""
        self.starts = 0
        self.started_at: float | None = None
        self.started_mono: float | None = None
        self.attempt = 0
        self.restarts = 0
        self.ended: ExitInfo | None = None
        self.spawn_error = ""
        self.next_attempt_mono: float | None = None
        self.next_attempt_at: float | None = None
        self.last_exit: ExitInfo | None = None
        self.reason = ""
        self.health = HealthStatus()
        self.latency = SteadyLatency()
        self.stats: ProcessStats | None = None
        self.binary: str | None = None
        self.endpoints: dict[str, str] = {}
        self.probe_due = 0.0
        self.probing = False
        self._stop_waiters: list[asyncio.Future[None]] = []
        self._stop_reason = "stopped"
        self._kill_timer: asyncio.TimerHandle | None = None
        self._retry_timer: asyncio.TimerHandle | None = None
        self._grace_timer: asyncio.TimerHandle | None = None

    @property
    def name(self) -> str:
        """The service name."""
        return self.definition.name

    @property
    def kind(self) -> ServiceKind:
        """Built-in kind or CUSTOM."""
        return self.definition.kind

    @property
    def pid(self) -> int | None:
        """The main process id while it runs."""
        return self.child.pid if self.child is not None and not self.child.exited else None

    # Operator actions ---------------------------------------------------

    def start(self) -> None:
        """Wanted up: start now, whatever the backoff said.

        While the service is stopping, it starts again once the old process
        group is gone.
        """
        self.desired = True
        if self.child is not None:
            self.hooks.on_change(self)
            return
        self.attempt = 0
        self._spawn()

    async def stop(self, reason: str = "stopped by operator") -> None:
        """Wanted down: stop signal to the group, SIGKILL after ``stop_timeout``.

        Without a process there is nothing to stop: a failed or exited service
        keeps its state and reason (shutting down does not erase a failure),
        and a pending restart is cancelled with the failure kept in the reason.
        """
        self.desired = False
        self._clear_retry()
        child = self.child
        if child is None:
            if self.state in (ServiceState.FAILED, ServiceState.EXITED):
                self.hooks.on_change(self)
            elif self.state is not ServiceState.STOPPED:
                failure = self._failure()
                self.attempt = 0
                self._set(
                    ServiceState.STOPPED,
                    f"{reason} (last failure: {failure})" if failure else reason,
                )
            return
        self.attempt = 0
        waiter: asyncio.Future[None] = self.hooks.loop.create_future()
        self._stop_waiters.append(waiter)
        if self.state is not ServiceState.STOPPING:
            config = self.definition.config
            self._stop_reason = reason
            self._set(ServiceState.STOPPING, f"sent {signal.Signals(config.stop_signal).name}")
            if not child.signal_group(config.stop_signal):
                child.signal_group(signal.SIGKILL)
            self._kill_timer = self.hooks.loop.call_later(config.stop_timeout, self._escalate)
        await waiter

    def hold(self, held: bool) -> None:
        """Hold or release automatic restarts."""
        if held == self.held:
            return
        self.held = held
        if held and self.state is ServiceState.BACKOFF:
            self._clear_retry()
            self._set(ServiceState.HELD, self.spawn_error or "restarts held by operator")
        elif not held and self.state is ServiceState.HELD:
            if self.desired:
                self._spawn(automatic=True)
            else:
                self._set(ServiceState.STOPPED, "")
        else:
            self.hooks.on_change(self)

    # Engine callbacks ---------------------------------------------------

    def reconcile(self) -> None:
        """Start the service if its backoff is over (called on every tick)."""
        if (
            self.state is ServiceState.BACKOFF
            and self.desired
            and self.child is None
            and self.next_attempt_mono is not None
            and self.hooks.clock.monotonic() >= self.next_attempt_mono
        ):
            self._spawn(automatic=True)

    def set_health(self, health: HealthStatus) -> None:
        """Record a probe result; a change of health state is published at once.

        Latency-only changes wait for the next tick's snapshot, so that 20
        services probed twice a second do not rebuild the snapshot 40 times; the
        latency shown is steadied (:class:`~.health.SteadyLatency`).
        """
        self.probing = False
        changed_state = health.state is not self.health.state
        self.health = replace(health, latency_ms=self.latency.add(health.latency_ms))
        if changed_state:
            self.hooks.on_change(self)

    # Internals -----------------------------------------------------------

    def _spawn(self, *, automatic: bool = False) -> None:
        """Start a process; ``automatic`` when the supervisor restarts it on its own."""
        hooks = self.hooks
        self._clear_retry()
        try:
            plan = hooks.plan(self.definition)
            self.binary = str(plan.binary)
            self.endpoints = {}
            pumps = (self._pump(LogStream.STDOUT), self._pump(LogStream.STDERR))
            self.starts += 1
            mark = lineage_mark(hooks.lineage.instance, self.name, self.starts)
            child = spawn(
                hooks.loop,
                plan.argv,
                {**plan.env, MARK_VAR: mark},
                plan.cwd,
                functools.partial(self._on_output, pumps),
                self._on_exit,
            )
        except PalyraError as exc:
            self._spawn_failed(sanitize_line(str(exc)))
            return
        except OSError as exc:
            self._spawn_failed(sanitize_line(f"cannot start: {exc.strerror or exc}"))
            return
        except Exception as exc:
            self._spawn_failed(sanitize_line(f"cannot start: {type(exc).__name__}: {exc}"))
            return
        if automatic:
            self.restarts += 1
        self.child = child
        self.mark = mark
        self.ended = None
        self.spawn_error = ""
        hooks.lineage.own(child.pid)
        hooks.reaper.watch(child.pgid)
        child.release()
        self.started_at = hooks.clock.time()
        self.started_mono = hooks.clock.monotonic()
        self.health = HealthStatus()
        self.latency = SteadyLatency()
        self.stats = None
        self.probe_due = 0.0
        self.writer.note(self.started_at, f"{self.name} started (pid {child.pid})")
        hooks.on_logs()
        self._set(ServiceState.STARTING, "")
        grace = self.definition.config.start_grace
        self._grace_timer = hooks.loop.call_later(grace, self._grace_over, child)

    def _pump(self, stream: LogStream) -> LinePump:
        return LinePump(
            self.writer,
            stream,
            self.hooks.redactor,
            self.hooks.clock.time,
            on_endpoint=self._on_endpoint,
        )

    def _spawn_failed(self, reason: str) -> None:
        """Record a failed spawn; the log says a reason once, not on every retry."""
        decision = backoff.after_spawn_failure(self.attempt, self.definition.config.max_restarts)
        self.attempt = decision.attempt
        self.ended = None
        repeated = reason == self.spawn_error
        self.spawn_error = reason
        now = self.hooks.clock.time()
        if decision.delay is None:
            said = "the same reason" if repeated else reason
            self.writer.note(
                now,
                f"cannot start {self.name} ({said}); gave up after {self.attempt} failures",
                LogLevel.ERROR,
            )
            self.hooks.on_logs()
            self._set(ServiceState.FAILED, f"{reason}; gave up after {self.attempt} failures")
            return
        if not repeated:
            self.writer.note(
                now, f"cannot start {self.name}: {reason}; retrying with backoff", LogLevel.ERROR
            )
            self.hooks.on_logs()
        self._schedule_retry(decision.delay, reason)

    def _schedule_retry(self, delay: float, failure: str = "") -> None:
        """Back off before the next start; ``failure`` is the spawn error, if that was it."""
        clock = self.hooks.clock
        if self.held:
            self.next_attempt_mono = None
            self.next_attempt_at = None
            self._set(ServiceState.HELD, failure or "restarts held by operator")
            return
        self.next_attempt_mono = clock.monotonic() + delay
        self.next_attempt_at = clock.time() + delay
        self._retry_timer = self.hooks.loop.call_later(delay, self.reconcile)
        self._set(ServiceState.BACKOFF, failure or f"restarting after a {delay:g} s backoff")

    def _failure(self) -> str:
        """How the service last failed, for a reason that must not lose it."""
        if self.spawn_error:
            return self.spawn_error
        if self.ended is not None and not self.ended.success:
            return self.ended.description
        return ""

    def _clear_retry(self) -> None:
        self.next_attempt_mono = None
        self.next_attempt_at = None
        if self._retry_timer is not None:
            self._retry_timer.cancel()
            self._retry_timer = None

    def _grace_over(self, child: Child) -> None:
        if self.child is child and self.state is ServiceState.STARTING:
            self._set(ServiceState.RUNNING, "")

    def _on_output(self, pumps: tuple[LinePump, LinePump], index: int, data: bytes) -> None:
        if data:
            pumps[index].feed(data)
        else:
            pumps[index].finish()
        self.hooks.on_logs()

    def _on_endpoint(self, key: str, address: str) -> None:
        if self.endpoints.get(key) != address:
            self.endpoints[key] = address
            self.hooks.on_change(self)

    def _on_exit(self, status: ExitStatus) -> None:
        hooks = self.hooks
        child = self.child
        if child is None:
            return
        hooks.lineage.disown(child.pid)
        for timer in (self._kill_timer, self._grace_timer):
            if timer is not None:
                timer.cancel()
        self._kill_timer = self._grace_timer = None
        if child.pipes_open:
            hooks.loop.call_later(PIPE_GRACE, child.close_pipes)
        self.child = None
        self.stats = None
        stopping = self.state is ServiceState.STOPPING or not self.desired
        waiters, self._stop_waiters = (self._stop_waiters, []) if stopping else ([], [])
        hooks.loop.create_task(self._clean_up(child, self.mark, waiters))
        if status.exec_error is not None:
            self._exec_failed(status.exec_error, stopping)
            return
        now = hooks.clock.time()
        uptime = max(0.0, hooks.clock.monotonic() - (self.started_mono or hooks.clock.monotonic()))
        exit_info = ExitInfo(
            code=status.code, signal=status.signal, at=now, uptime=round(uptime, 3)
        )
        self.last_exit = exit_info
        self.ended = exit_info
        self.writer.note(
            now,
            f"{self.name} (pid {child.pid}) {exit_info.description} after {uptime:.1f} s",
            LogLevel.INFO if stopping or exit_info.success else LogLevel.WARN,
        )
        hooks.on_logs()
        if stopping:
            self.attempt = 0
            self._set(ServiceState.STOPPED, self._stop_reason)
            if self.desired:
                self._spawn()
            return
        config = self.definition.config
        decision = backoff.after_exit(exit_info, self.attempt, config.restart, config.max_restarts)
        self.attempt = decision.attempt
        if decision.delay is None:
            if decision.give_up:
                self._set(ServiceState.FAILED, f"gave up after {self.attempt} consecutive failures")
            else:
                self._set(
                    ServiceState.EXITED, f"not restarted (restart policy: {config.restart.value})"
                )
            return
        self._schedule_retry(decision.delay)

    def _exec_failed(self, error: str, stopping: bool) -> None:
        """The program could not be executed: a failed start, not an exit."""
        if stopping:
            self.attempt = 0
            self._set(ServiceState.STOPPED, self._stop_reason)
            return
        self._spawn_failed(sanitize_line(f"cannot start '{self.binary}': {error}"))

    async def _clean_up(self, child: Child, mark: str, waiters: list[asyncio.Future[None]]) -> None:
        """Kill what the ended start left behind, in its group or not; then resolve ``stop()``.

        The group gets SIGKILL until it is empty; descendants that left it are
        found through the lineage tracker and killed by pidfd.
        """
        hooks = self.hooks
        deadline = hooks.loop.time() + GROUP_GRACE
        reported: set[int] = set()
        try:
            await self._kill_leftovers(child, mark, deadline, reported)
        finally:
            hooks.reaper.forget(child.pgid)
            hooks.reaper.forget_processes(hooks.lineage.forget(mark))
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _kill_leftovers(
        self,
        child: Child,
        mark: str,
        deadline: float,
        reported: set[int],
    ) -> None:
        hooks = self.hooks
        while True:
            members = await asyncio.to_thread(group_members, child.pgid)
            strays = await asyncio.to_thread(hooks.lineage.sweep, mark)
            if not members and not strays:
                break
            pids = sorted(set(members) | {stray.pid for stray in strays})
            if hooks.loop.time() >= deadline:
                text = f"processes of {self.name} survive SIGKILL: {_pids(pids)}"
                self._note(text, LogLevel.ERROR)
                break
            outside = {stray.pid for stray in strays} - set(members) - reported
            if outside:
                reported |= outside
                self._note(
                    f"killing processes {self.name} left outside its process group: "
                    f"{_pids(sorted(outside))}",
                    LogLevel.WARN,
                )
            if members:
                # The group id cannot be reused while one of its members lives.
                child.signal_group(signal.SIGKILL)
            for stray in strays:
                kill_tracked(stray)
            await asyncio.sleep(0.01)

    def _note(self, text: str, level: LogLevel) -> None:
        self.writer.note(self.hooks.clock.time(), text, level)
        self.hooks.on_logs()

    def _escalate(self) -> None:
        self._kill_timer = None
        child = self.child
        if child is None or self.state is not ServiceState.STOPPING:
            return
        timeout = self.definition.config.stop_timeout
        self.writer.note(
            self.hooks.clock.time(),
            f"{self.name} did not stop within {timeout:g} s; sending SIGKILL to its process group",
            LogLevel.WARN,
        )
        self.hooks.on_logs()
        child.signal_group(signal.SIGKILL)

    def _set(self, state: ServiceState, reason: str) -> None:
        self.state = state
        self.reason = reason
        self.hooks.on_change(self)


def _pids(pids: list[int]) -> str:
    """``pid 12`` or ``pids 12, 13``."""
    return ("pid " if len(pids) == 1 else "pids ") + ", ".join(str(pid) for pid in pids)
