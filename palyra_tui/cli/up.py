"""``palyra-tui up``: start the runtime host detached, and return once the gateway is healthy.

A host already running is used as it is.  Then the command follows the host's
view until the gateway answers its health check (exit 0), or the gateway
service is down for good (failed, exited, held or not wanted), or ``--timeout``
passes: exit 5, with the gateway service's state and the reason.  A host that
cannot start at all is exit 1 with the last line it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from palyra_tui.cli.connect import attached
from palyra_tui.cli.exits import EXIT_GATEWAY, EXIT_OK
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import clean, dump, seconds
from palyra_tui.config import Config
from palyra_tui.host.launcher import ensure_host, probe
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models import ServiceKind, ServiceSnapshot, ServiceState
from palyra_tui.state.snapshot import ConnectionState

UP_TIMEOUT = 60.0
_GONE = frozenset({ServiceState.FAILED, ServiceState.EXITED, ServiceState.HELD})


async def run_up(config: Config, config_path: Path | None, *, timeout: float, as_json: bool) -> int:
    """Start (or find) the host, wait for a healthy gateway; returns the exit code."""
    running = await probe(config, "palyra-tui up")
    host = running or await ensure_host(config, config_path)
    async with attached(config, "up") as runtime:
        await _healthy(runtime, timeout)
        view = runtime.view()
    snapshot = view.snapshot
    health = snapshot.gateway_health
    assert health is not None
    if as_json:
        document: dict[str, Any] = {
            "started": running is None,
            "host": {
                "pid": host.host_pid,
                "version": host.version,
                "state_root": host.state_root,
                "started_at": seconds(host.started_at),
            },
            "gateway": {
                "connection": snapshot.connection.value,
                "target": snapshot.gateway_target,
                "dashboard_url": view.dashboard_url,
                "version": health.version,
            },
        }
        sys.stdout.write(dump(document))
    else:
        how = "started" if running is None else "already running"
        sys.stdout.write(
            f"runtime host pid {host.host_pid} {how}; gateway {clean(health.version)} "
            f"healthy at {clean(snapshot.gateway_target)}\n"
        )
    sys.stdout.flush()
    return EXIT_OK


async def _healthy(runtime: SocketRuntime, timeout: float) -> None:
    """Return once the gateway answers; raise CommandFailed (exit 5) saying why it does not."""
    feed = runtime.subscribe()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                if _settled(runtime):
                    return
                async for _ in feed:
                    if _settled(runtime):
                        return
        raise CommandFailed(
            f"the gateway was not healthy within {timeout:g} s: {_why(runtime)}", EXIT_GATEWAY
        )
    finally:
        feed.close()


def _settled(runtime: SocketRuntime) -> bool:
    """True once healthy; raises CommandFailed once it will not be."""
    problem = _verdict(runtime)
    if problem:
        raise CommandFailed(problem, EXIT_GATEWAY)
    return problem is None


def _verdict(runtime: SocketRuntime) -> str | None:
    """None once healthy; a sentence when it will not be; "" while it may still come up."""
    if runtime.lost:
        raise CommandFailed(runtime.lost)
    snapshot = runtime.view().snapshot
    if snapshot.gateway_health is not None and snapshot.connection is ConnectionState.CONNECTED:
        return None
    gateway = _gateway(runtime)
    if gateway is None:
        return "no gateway service is configured"
    if not gateway.desired and not gateway.state.is_up:
        if gateway.enabled and gateway.last_exit is None and not gateway.reason:
            return ""  # a host that just began serving starts its enabled services next
        return f"the gateway service is {gateway.state.value} and not started: {_why(runtime)}"
    if gateway.state in _GONE:
        return f"the gateway service is {gateway.state.value}: {_why(runtime)}"
    return ""


def _gateway(runtime: SocketRuntime) -> ServiceSnapshot | None:
    services = runtime.view().snapshot.supervisor.services
    return next((s for s in services if s.kind is ServiceKind.GATEWAY), None)


def _why(runtime: SocketRuntime) -> str:
    """The gateway service's state and reason, and what the health check said."""
    snapshot = runtime.view().snapshot
    parts: list[str] = []
    gateway = _gateway(runtime)
    if gateway is not None:
        state = f"service {gateway.state.value}"
        if gateway.last_exit is not None and not gateway.state.is_up:
            state += f" ({gateway.last_exit.description})"
        parts.append(state)
        if gateway.reason:
            parts.append(clean(gateway.reason))
    parts += [clean(e.message) for e in snapshot.errors if e.source == "gateway"]
    return "; ".join(parts) or f"the gateway is {snapshot.connection.value}"
