"""The one immutable snapshot the UI renders, and the rules that summarise it.

Timestamps never take part in equality, so a snapshot that did not change
compares equal to the last one and costs the UI nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from palyra_tui.models import HealthState, ServiceKind, SupervisorSnapshot
from palyra_tui.models.gateway import Approval, GatewayHealth, SessionSummary


class ConnectionState(enum.Enum):
    """The gateway connection as the status bar shows it (spec §4.11)."""

    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class OverallStatus(enum.Enum):
    """Healthy, degraded or down (spec §2.3)."""

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
    connection: ConnectionState = ConnectionState.OFFLINE
    sessions: tuple[SessionSummary, ...] = ()
    approvals: tuple[Approval, ...] = ()
    errors: tuple[SourceError, ...] = ()
    taken_at: float = field(default=0.0, compare=False)

    @property
    def overall(self) -> OverallStatus:
        """Down without gateway health; degraded when an optional part is unwell."""
        if self.gateway_health is None:
            return OverallStatus.DOWN
        for service in self.supervisor.services:
            if not service.enabled:
                continue
            if service.kind is ServiceKind.BROWSERD and (
                service.health.state is HealthState.UNHEALTHY or not service.state.is_up
            ):
                return OverallStatus.DEGRADED
            if service.kind is ServiceKind.NODE_HOST and not service.state.is_up:
                return OverallStatus.DEGRADED
        return OverallStatus.HEALTHY


def connection_state(health_ok: bool, gateway_expected: bool) -> ConnectionState:
    """Connected when the gateway answers; reconnecting while it should; else offline."""
    if health_ok:
        return ConnectionState.CONNECTED
    if gateway_expected:
        return ConnectionState.RECONNECTING
    return ConnectionState.OFFLINE
