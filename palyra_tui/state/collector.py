"""Collects one :class:`AppSnapshot`: supervisor state plus what the gateway says.

Each source can fail on its own; a failure becomes a :class:`SourceError` in
the snapshot and never an exception, so the UI's refresh loop cannot die.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from palyra_tui.client.errors import ClientError
from palyra_tui.models import ServiceKind, SupervisorSnapshot
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.gateway import Approval, GatewayHealth, SessionSummary
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.snapshot import AppSnapshot, SourceError, connection_state
from palyra_tui.supervisor.api import SupervisorApi

STEADY_UPTIME = 60
"""Past this many seconds the gateway's uptime is kept in whole minutes."""
PENDING_WINDOW = 24 * 3600.0
"""Approvals requested longer ago than this are not looked for (palyrad times
RunStream approvals out after 60 s; a day covers console and pairing requests)."""


class SnapshotCollector:
    """Builds snapshots; create it on the loop that will call :meth:`collect`."""

    def __init__(
        self,
        supervisor: SupervisorApi,
        link: GatewayLink,
        clock: Clock | None = None,
    ) -> None:
        self.supervisor = supervisor
        self.link = link
        self._clock: Clock = clock if clock is not None else SystemClock()

    async def collect(self) -> AppSnapshot:
        """One snapshot; never raises for a failing source."""
        supervised = self.supervisor.snapshot()
        target, _ = self.link.targets(supervised)
        errors: list[SourceError] = []
        health: GatewayHealth | None = None
        sessions: tuple[SessionSummary, ...] = ()
        approvals: tuple[Approval, ...] = ()
        if target:
            client = await self.link.grpc(target)
            try:
                health = steady_uptime(await client.get_health())
            except ClientError as error:
                errors.append(SourceError("gateway", str(error)))
            if health is not None:
                since = int((self._clock.time() - PENDING_WINDOW) * 1000)
                results = await asyncio.gather(
                    client.list_sessions(limit=100),
                    client.pending_approvals(since_ms=max(since, 0)),
                    return_exceptions=True,
                )
                listed, pending = results
                if isinstance(listed, BaseException):
                    errors.append(SourceError("sessions", _describe(listed)))
                else:
                    sessions = tuple(
                        sorted(listed.sessions, key=lambda s: s.updated_at_ms, reverse=True)
                    )
                if isinstance(pending, BaseException):
                    errors.append(SourceError("approvals", _describe(pending)))
                else:
                    approvals = pending
        return AppSnapshot(
            supervisor=supervised,
            gateway_target=target,
            gateway_health=health,
            connection=connection_state(
                health is not None,
                self.link.remote is not None or _gateway_expected(supervised),
            ),
            sessions=sessions,
            approvals=approvals,
            errors=tuple(errors),
            taken_at=self._clock.time(),
        )


def steady_uptime(health: GatewayHealth) -> GatewayHealth:
    """The gateway's uptime to the second in its first minute, then in whole minutes.

    It grows with every poll, so an exact figure would make every snapshot new and
    send it to every client; a person reads minutes once the first one has passed.
    """
    uptime = health.uptime_seconds
    if uptime < STEADY_UPTIME:
        return health
    return replace(health, uptime_seconds=uptime - uptime % STEADY_UPTIME)


def _gateway_expected(snapshot: SupervisorSnapshot) -> bool:
    for service in snapshot.services:
        if service.kind is ServiceKind.GATEWAY:
            return service.desired or service.state.is_up
    return False


def _describe(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error)
    return f"{type(error).__name__}: {error}"
