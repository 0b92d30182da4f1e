"""The one immutable snapshot the UI renders, and the rules that summarise it.

Timestamps never take part in equality, so a snapshot that did not change
compares equal to the last one: the runtime does not send it, and it costs
the UI nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from palyra_tui.models import (
    HealthState,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.gateway import Approval, GatewayHealth, SessionSummary


class ConnectionState(enum.Enum):
    """The gateway connection as the status bar shows it."""

    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class OverallStatus(enum.Enum):
    """The whole runtime at a glance: healthy, degraded or down."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class SourceError:
    """One data source that failed this round, and why."""

    source: str
    message: str


@dataclass(frozen=True, slots=True)
class AppSnapshot:
    """Everything the screens show, collected in one pass."""

    supervisor: SupervisorSnapshot = SupervisorSnapshot()
    gateway_target: str = ""
    gateway_health: GatewayHealth | None = None
    """What the gateway says of itself; its uptime is to the second in the first minute,
    then in whole minutes, so that it changes the snapshot once a minute."""
    connection: ConnectionState = ConnectionState.OFFLINE
    sessions: tuple[SessionSummary, ...] = ()
    approvals: tuple[Approval, ...] = ()
    errors: tuple[SourceError, ...] = ()
    taken_at: float = field(default=0.0, compare=False)

    @property
    def overall(self) -> OverallStatus:
        """Down without gateway health; degraded while any enabled service is unwell."""
        if self.gateway_health is None:
            return OverallStatus.DOWN
        for service in self.supervisor.services:
            if service.enabled and service_unwell(service):
                return OverallStatus.DEGRADED
        return OverallStatus.HEALTHY


_DOWN_AND_WANTED = frozenset({ServiceState.BACKOFF, ServiceState.HELD, ServiceState.FAILED})


def service_unwell(service: ServiceSnapshot) -> bool:
    """True when a service makes the whole degraded.

    That is: it is wanted and restarting (backoff), held, given up on
    (failed) or ended with a failure that is not restarted; or its health
    check fails.  A failed service the operator stopped keeps its state but no
    longer counts.  Browserd and the node host must also be up, as the desktop
    companion requires.
    """
    if service.desired and service.state in _DOWN_AND_WANTED:
        return True
    if (
        service.desired
        and service.state is ServiceState.EXITED
        and not (service.last_exit is not None and service.last_exit.success)
    ):
        return True
    if service.health.state is HealthState.UNHEALTHY:
        return True
    return service.kind in (ServiceKind.BROWSERD, ServiceKind.NODE_HOST) and not (
        service.state.is_up
    )


def connection_state(health_ok: bool, gateway_expected: bool) -> ConnectionState:
    """Connected when the gateway answers; reconnecting while it should; else offline."""
    if health_ok:
        return ConnectionState.CONNECTED
    if gateway_expected:
        return ConnectionState.RECONNECTING
    return ConnectionState.OFFLINE
