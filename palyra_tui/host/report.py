"""The host's ``Status`` method: the runtime at a glance, in types a script can read fast.

``palyra-tui status`` runs from cron and monitors, so it should cost little
more than starting the interpreter.  The whole view (``View``) would have it
load every model of chat, approvals and sessions just to decode them; this
report carries only what ``status`` prints and needs nothing beyond the service
models.  Its enums are its own: the public ``status`` document keeps its
values even if the runtime's internal names change (the host maps them, and a
value it cannot map fails there, loudly).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from palyra_tui.models import ServiceSnapshot

STATUS = "Status"


class Overall(enum.Enum):
    """Healthy, degraded (a service is unwell) or down (no gateway health)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"


class Connection(enum.Enum):
    """The gateway connection: connected, reconnecting while it should come up, offline."""

    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """No arguments."""


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A source of the gateway's facts that failed in the latest round, and why."""

    source: str
    message: str


@dataclass(frozen=True, slots=True)
class GatewayReport:
    """The gateway as the runtime sees it; the version, status and uptime once it answers."""

    connection: Connection
    target: str = ""
    dashboard_url: str = ""
    version: str | None = None
    status: str | None = None
    uptime: int | None = None
    errors: tuple[SourceProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalBrief:
    """A pending approval, in brief (``approvals`` shows everything, with the tool input)."""

    approval_id: str
    tool_name: str
    session_id: str
    risk: str
    requested_at: float
    deadline: float | None = None
    what: str = ""
    """What is asked in a few words: the tool's name, or the device that wants to pair."""


@dataclass(frozen=True, slots=True)
class RunBrief:
    """A chat run in flight."""

    run_id: str
    session_id: str
    aborting: bool = False


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything ``palyra-tui status`` prints."""

    overall: Overall
    gateway: GatewayReport
    services: tuple[ServiceSnapshot, ...] = ()
    unwell: tuple[str, ...] = ()
    """The services that make the runtime degraded."""
    approvals: tuple[ApprovalBrief, ...] = ()
    runs: tuple[RunBrief, ...] = ()
    drafts: int = 0
    clients: int = 0
    profile: str = "local"
    """The active profile's name."""
    not_supervised: str = ""
    """For a remote profile, why no local service runs ("" for a local one)."""
