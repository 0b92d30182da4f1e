"""The runtime host: one process per state root that outlives every terminal.

It opens the supervisor (which takes the state root's instance lock), runs the
in-process runtime on its own loop, serves the runtime API on the host socket
and starts the enabled services.  It stops when asked (``palyra-tui down``,
SIGTERM or SIGINT): services in reverse order, then the runs, then the socket.
A detached host ignores SIGHUP: a terminal going away is never a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import Config
from palyra_tui.host.preflight import preflight_in_host
from palyra_tui.host.serve import RuntimeService
from palyra_tui.host.transport import HostServer
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.secrets import SecretStore
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.state.persisted import LegacySecrets
from palyra_tui.state.runtime_root import kept_runtime_root
from palyra_tui.state.state_file import legacy_tokens, state_path
from palyra_tui.supervisor import Supervisor

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True, slots=True)
class HostOptions:
    """How the host runs."""

    ignore_hangup: bool = True
    """A detached host outlives the terminal that started it."""
    interval: float = 1.0


class RuntimeHost:
    """The supervisor, the runtime and the socket, started and stopped in order."""

    def __init__(
        self, config: Config, options: HostOptions | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.options = options if options is not None else HostOptions()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.supervisor: Supervisor | None = None
        self.runtime: LocalRuntime | None = None
        self.server: HostServer | None = None
        self._service: RuntimeService | None = None
        self._stop = asyncio.Event()
        self.reason = ""

    def request_stop(self, reason: str) -> None:
        """Stop everything and end :meth:`run` (any caller on the host's loop)."""
        if not self.reason:
            self.reason = reason
        self._stop.set()

    async def open(self) -> None:
        """Take the state root, serve the socket, start the enabled services, then run the
        onboarding's checks (with the services started, the ports they hold are theirs)."""
        supervisor = await asyncio.to_thread(supervisor_for, self.config)
        self.config = supervisor.config
        await asyncio.to_thread(supervisor.open)
        self.supervisor = supervisor
        await self.serve(supervisor, lambda: self.request_stop("stopped: palyra-tui down"))
        if self.runtime is None or not self.runtime.view().profile.remote:
            await supervisor.start_all()
        if self.runtime is not None:
            self.runtime.onboarding.check_soon()

    async def serve(self, supervisor: Supervisor, on_shutdown: Callable[[], None]) -> None:
        """Serve the runtime over ``supervisor`` (already open) on the host socket;
        ``on_shutdown`` is what ``palyra-tui down`` asks for."""
        self.supervisor = supervisor
        identity = ClientIdentity(
            admin_token=supervisor.tokens.admin_token,
            principal=self.config.runtime.principal,
            device_id=self.config.runtime.device_id,
        )
        self.runtime = LocalRuntime(
            supervisor,
            identity,
            self.config.runtime,
            clock=self.clock,
            interval=self.options.interval,
            adopt_secrets=_taken_at_open,
            preflight=preflight_in_host(self.config, os.environ),
            profile_token=SecretStore.for_config(self.config, os.environ).profile_token,
            hosted=True,
        )
        self._service = RuntimeService(self.runtime, on_shutdown)
        self.server = HostServer(self.config.state_root, clock=self.clock)
        self._service.register(self.server)
        await self.runtime.open()  # the state file is read before a client can ask
        await self.server.start()

    async def run(
        self,
        on_ready: Callable[[], None] | None = None,
        on_stopping: Callable[[], None] | None = None,
    ) -> None:
        """Open, serve until asked to stop, then close everything; ``on_stopping`` is
        called as the stop begins."""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._on_signal, signum)
        if self.options.ignore_hangup:
            loop.add_signal_handler(signal.SIGHUP, lambda: None)
        try:
            await self.open()
            if on_ready is not None:
                on_ready()
            await self._stop.wait()
        finally:
            if on_stopping is not None:
                on_stopping()
            try:
                await self.close()
            finally:
                for signum in (*STOP_SIGNALS, signal.SIGHUP):
                    loop.remove_signal_handler(signum)

    async def close(self) -> None:
        """Services first (the gateway last), then runs, the socket and the lock."""
        supervisor = self.supervisor
        try:
            if supervisor is not None:
                with contextlib.suppress(Exception):
                    await supervisor.stop_all(self.reason or "stopped: the runtime host stopped")
            await self.stop_serving()
        finally:
            if supervisor is not None:
                await supervisor.aclose()

    async def stop_serving(self) -> None:
        """End the runs clients started, the runtime's feeds and the socket."""
        if self._service is not None:
            await self._service.drain()
        if self.runtime is not None:
            await self.runtime.close()
        if self.server is not None:
            await self.server.stop()

    def _on_signal(self, signum: int) -> None:
        """The first stop signal stops everything in order; the next one kills now."""
        if self._stop.is_set() and self.supervisor is not None:
            self.supervisor.kill_now()
        self.request_stop(f"stopped: the runtime host received {signal.Signals(signum).name}")


async def _taken_at_open(_legacy: LegacySecrets) -> None:
    """Plaintext tokens of an older state file: the secret store took the ones it lacked
    when the supervisor opened (before any service could start with other tokens), so
    the state file may be rewritten without them."""


def supervisor_for(config: Config) -> Supervisor:
    """The supervisor a runtime host serves: its tokens come from the secret store, which
    takes those an older state file kept in plaintext when it has none of its own; its
    daemons use the directory chosen during onboarding (reads the state file: blocking)."""
    kept = state_path(config.state_dir)
    return Supervisor(kept_runtime_root(config), legacy_tokens=partial(legacy_tokens, kept))
