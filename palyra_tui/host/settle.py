"""Waiting, on the host, until a service started by a command runs or fails to.

The supervisor answers a start once the process is spawned; a script wants to
know whether it came up.  The host decides it where the state is exact: it
subscribes to the supervisor's events before the command, then reads the
supervisor's own snapshot (published before each event) after it and after
every event of the service, until the service runs or is down again.
"""

from __future__ import annotations

from collections.abc import Awaitable

from palyra_tui.models import ServiceSnapshot, ServiceState
from palyra_tui.supervisor.api import SupervisorApi


async def until_running(supervisor: SupervisorApi, name: str, command: Awaitable[None]) -> str:
    """Run ``command``, then wait until ``name`` runs: "" then, else why it does not."""
    events = supervisor.subscribe_events()
    try:
        await command
        while True:
            service = supervisor.snapshot().get(name)
            if service is None:
                return f"{name} is not a service of this runtime"
            if service.state is ServiceState.RUNNING:
                return ""
            if not service.state.is_up:
                return not_running(service)
            async for event in events:
                if event.service == name:
                    break
            else:
                return f"the supervisor stopped before {name} was running"
    finally:
        events.close()


def not_running(service: ServiceSnapshot) -> str:
    """Why ``service`` is down after it was started."""
    parts = [f"{service.name} is {service.state.value}"]
    ended = service.last_exit
    if ended is not None and service.state is not ServiceState.STOPPED:
        parts.append(ended.description)
    if service.reason:
        parts.append(service.reason)
    return ": ".join(parts[:1]) + (f": {'; '.join(parts[1:])}" if len(parts) > 1 else "")


async def until_started(supervisor: SupervisorApi) -> None:
    """Return once no service is starting any more: each runs, or is down with its reason.

    A service that cannot start (a binary not found, a crash in its start grace)
    counts as started: it shows as such, and waiting for it would only hide that.
    """
    events = supervisor.subscribe_events()
    try:
        while any(s.state is ServiceState.STARTING for s in supervisor.snapshot().services):
            async for _ in events:
                break
            else:
                return
    finally:
        events.close()
