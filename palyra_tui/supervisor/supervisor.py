"""The embedded supervisor: an engine on its own thread and event loop.

A terminal that stops reading (an SSH stall) blocks Textual's writer and with
it the UI loop.  Exit handling, restarts and health checks therefore run on
a thread of their own, with their own loop; the UI and the headless command
talk to it through :class:`Supervisor`, whose coroutines can be awaited from
any loop and whose :meth:`Supervisor.snapshot` is a plain attribute read.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from palyra_tui.config import Config
from palyra_tui.errors import SupervisorError
from palyra_tui.models import LogLine, LogStream, ServiceEvent, SupervisorSnapshot
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.secrets import RuntimeSecrets, SecretName, SecretStore
from palyra_tui.supervisor.definitions import ServiceDefinition, define_services, register_secrets
from palyra_tui.supervisor.engine import Engine
from palyra_tui.supervisor.health import ProbeHistory, ProbeRecord
from palyra_tui.supervisor.journal import ServiceJournal
from palyra_tui.supervisor.lock import InstanceLock
from palyra_tui.supervisor.logbuffer import MIB, LogStore
from palyra_tui.supervisor.subscriptions import MAX_EVENTS, EventSubscription, LogSubscription
from palyra_tui.text import Redactor

T = TypeVar("T")

if TYPE_CHECKING:
    from palyra_tui.supervisor.api import SupervisorApi


class Supervisor:
    """Supervises the configured services from a dedicated thread.

    Use as ``with Supervisor(config) as sup:`` or call :meth:`open` and
    :meth:`close`.  Opening takes the state root's instance lock.
    """

    def __init__(
        self,
        config: Config,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        tokens: RuntimeSecrets | None = None,
        legacy_tokens: Callable[[], Mapping[SecretName, str]] | None = None,
        redactor: Redactor | None = None,
        tick_interval: float = 0.5,
        stats_interval: float = 1.0,
        batch_interval: float = 0.05,
    ) -> None:
        self.config = config
        self._tokens = tokens
        self._legacy_tokens = legacy_tokens
        """Read once the instance lock is held: tokens an older state file kept in
        plaintext, which the secret store takes for the ones it lacks."""
        self.redactor = redactor if redactor is not None else Redactor()
        self.store = LogStore(
            config.log_lines,
            service_bytes=config.log_mib * MIB,
            total_bytes=config.log_total_mib * MIB,
        )
        self.journal = ServiceJournal()
        """The services' state changes, the newest 1,000 (written by the engine)."""
        self.probes = ProbeHistory()
        """What the health probes said, as runs of alike results (written by the engine)."""
        self._environ = dict(os.environ if environ is None else environ)
        self._clock = clock if clock is not None else SystemClock()
        self._tick_interval = tick_interval
        self._stats_interval = stats_interval
        self._batch_interval = batch_interval
        self._definitions = define_services(config)
        self._lock = InstanceLock(config.state_dir)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: Engine | None = None
        self._stopped: asyncio.Event | None = None
        self._closed = False

    @property
    def tokens(self) -> RuntimeSecrets:
        """The admin and browser tokens: given, or the state root's, loaded by :meth:`open`."""
        if self._tokens is None:
            raise SupervisorError("the supervisor is not open: its tokens are not loaded yet")
        return self._tokens

    # Lifecycle -------------------------------------------------------------

    def open(self) -> Supervisor:
        """Take the instance lock, load (or create) the state root's tokens unless they were
        given, and start the supervisor thread (blocking: call it from a thread).

        Raises :class:`InstanceLocked`, :class:`StateRootUnusable` or
        :class:`SecretStoreError`, each with a sentence for a person.
        """
        if self._thread is not None:
            return self
        self._lock.acquire()
        try:
            if self._tokens is None:
                store = SecretStore.for_config(self.config, self._environ)
                legacy = self._legacy_tokens() if self._legacy_tokens is not None else None
                self._tokens = store.load_or_create(legacy).secrets
            register_secrets(self.config, self._tokens, self.redactor, self._environ)
        except BaseException:
            self._lock.release()
            raise
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="palyra-supervisor", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._lock.release()
            raise failure[0]
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Stop every service, end the thread and release the lock (blocking)."""
        if self._closed or self._thread is None or self._loop is None:
            return
        self._closed = True
        engine = self._engine
        assert engine is not None and self._stopped is not None
        try:
            asyncio.run_coroutine_threadsafe(engine.close(), self._loop).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            engine.kill_everything()
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        self._lock.release()

    def kill_now(self) -> None:
        """SIGKILL every service's process group at once (any thread): the second Ctrl-C."""
        if self._engine is not None:
            self._engine.kill_groups()

    async def aclose(self, timeout: float = 30.0) -> None:
        """:meth:`close`, awaited from an event loop without blocking it."""
        await asyncio.to_thread(self.close, timeout)

    def __enter__(self) -> Supervisor:
        return self.open()

    def __exit__(self, *_: object) -> None:
        self.close()

    # Operations (awaitable from any loop) ------------------------------------

    async def start(self, name: str) -> None:
        """Start a service now, resetting its backoff."""
        self._check(name)
        await self._call(lambda engine: _now(engine.services[name].start))

    async def stop(self, name: str) -> None:
        """Stop a service; returns when its process group is gone."""
        self._check(name)
        await self._call(lambda engine: engine.services[name].stop())

    async def restart(self, name: str) -> None:
        """Stop a service gracefully, then start it."""
        self._check(name)
        await self._call(lambda engine: engine.restart(name))

    async def hold(self, name: str, held: bool) -> None:
        """Hold (True) or release (False) a service's automatic restarts."""
        self._check(name)
        await self._call(lambda engine: _now(lambda: engine.services[name].hold(held)))

    async def start_all(self) -> None:
        """Start every enabled service."""
        await self._call(lambda engine: _now(engine.start_all))

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        """Stop every service, the gateway last."""
        await self._call(lambda engine: engine.stop_all(reason))

    async def redefine(self, config: Config) -> None:
        """Run the services as ``config`` says from now on (a profile switch moves the
        daemons' directory); raises SupervisorError unless every service has stopped."""
        definitions = await asyncio.to_thread(define_services, config)
        await self._call(lambda engine: _now(lambda: engine.redefine(config, definitions)))
        self.config = config
        self._definitions = definitions

    async def reconsider(self) -> None:
        """Define the services again from the config and what is on disk (the node host is
        enabled once enrolled); a running service keeps its definition until it stops."""
        definitions = await asyncio.to_thread(define_services, self.config)
        await self._call(lambda engine: _now(lambda: engine.reconsider(definitions)))
        self._definitions = definitions

    async def overlay(self, name: str, env: Mapping[str, str]) -> None:
        """Add ``env`` to the environment of ``name``'s next starts ({} removes it)."""
        self._check(name)
        await self._call(lambda engine: _now(lambda: engine.overlay(name, env)))

    async def forget_history(self) -> None:
        """Forget the stopped services' logs, restart counts and last exits."""
        await self._call(lambda engine: _now(engine.forget_history))

    async def tick(self) -> None:
        """Run one reconcile pass now (the periodic tick does this every 500 ms)."""
        await self._call(lambda engine: _now(engine.tick))

    # Reads (any thread, never blocking on the supervisor) ------------------

    def snapshot(self) -> SupervisorSnapshot:
        """The latest immutable state of every service."""
        if self._engine is None:
            return SupervisorSnapshot(state_root=str(self.config.state_root))
        return self._engine.snapshot

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment the services start from (before their own variables)."""
        return self._environ

    def definitions(self) -> tuple[ServiceDefinition, ...]:
        """How each service is run, in configuration order."""
        return self._definitions

    def service_names(self) -> tuple[str, ...]:
        """Configured services, in order."""
        return tuple(definition.name for definition in self._definitions)

    def events(self) -> tuple[ServiceEvent, ...]:
        """The state changes kept in the journal, oldest first."""
        return self.journal.events()

    def probe_history(self) -> tuple[ProbeRecord, ...]:
        """The health probes' results as runs of alike results, oldest first."""
        return self.probes.records()

    def tail(self, name: str, count: int, stream: LogStream | None = None) -> tuple[LogLine, ...]:
        """The last ``count`` retained lines of ``name``."""
        self._check(name)
        return self.store.tail(name, count, stream)

    def subscribe_logs(
        self,
        services: Iterable[str] | None = None,
        *,
        backlog: bool = False,
        buffer: int | None = None,
    ) -> LogSubscription:
        """Follow logs from the calling loop; ``backlog`` starts with what is retained.

        ``buffer=N`` keeps up to N new lines for this subscriber, whatever the ring size.
        """
        engine = self._require_engine()
        names = tuple(services) if services is not None else self.service_names()
        for name in names:
            self._check(name)
        subscription = LogSubscription(
            self.store,
            names,
            asyncio.get_running_loop(),
            engine.remove_log_sink,
            backlog=backlog,
            buffer=buffer,
        )
        engine.add_log_sink(subscription)
        return subscription

    def subscribe_events(self, *, max_events: int | None = MAX_EVENTS) -> EventSubscription:
        """Follow state changes from the calling loop; ``max_events=None`` never drops one."""
        engine = self._require_engine()
        subscription = EventSubscription(
            asyncio.get_running_loop(), engine.remove_event_sink, max_events=max_events
        )
        engine.add_event_sink(subscription)
        return subscription

    # Internals -------------------------------------------------------------

    def _check(self, name: str) -> None:
        if name not in self.service_names():
            known = ", ".join(self.service_names())
            raise SupervisorError(f"no service called {name!r} (configured: {known})")

    def _require_engine(self) -> Engine:
        if self._engine is None or self._closed:
            raise SupervisorError("the supervisor is not running")
        return self._engine

    async def _call(self, action: Callable[[Engine], Awaitable[T]]) -> T:
        engine = self._require_engine()
        assert self._loop is not None

        async def run() -> T:
            return await action(engine)

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return await asyncio.wrap_future(future)

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main(ready, failure))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.get_running_loop()
        try:
            engine = Engine(
                loop,
                self.config,
                self._definitions,
                self.store,
                self.redactor,
                self._clock,
                self.tokens,
                self._environ,
                stats_interval=self._stats_interval,
                batch_interval=self._batch_interval,
                journal=self.journal,
                probes=self.probes,
            )
            engine.open()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        self._engine = engine
        self._stopped = asyncio.Event()
        ready.set()
        stopped = self._stopped
        while not stopped.is_set():
            engine.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), self._tick_interval)


async def _now(action: Callable[[], Any]) -> None:
    action()


if TYPE_CHECKING:

    def _implements_the_api(supervisor: Supervisor) -> SupervisorApi:
        return supervisor
