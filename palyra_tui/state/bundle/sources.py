"""What a support bundle is made of, gathered from the runtime at one moment."""

from __future__ import annotations

from dataclasses import dataclass, field

from palyra_tui.config import Config
from palyra_tui.models import LogLine, ServiceEvent, SupervisorSnapshot
from palyra_tui.models.gateway import GatewayHealth
from palyra_tui.models.preflight import Preflight
from palyra_tui.state.decisions import DecisionRecord
from palyra_tui.state.persisted import Place
from palyra_tui.state.profiles import ProfileInfo
from palyra_tui.state.runtime_api import TranscriptView
from palyra_tui.supervisor.health import ProbeRecord


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    """The gateway's ``/healthz`` answer, or why there is none."""

    health: GatewayHealth | None = None
    address: str = ""
    problem: str = ""


@dataclass(frozen=True, slots=True)
class DoctorFacts:
    """The preflight checks' result, or why they did not run."""

    result: Preflight | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ChatFacts:
    """The chat session last on show, with its transcript."""

    place: Place = field(default_factory=Place)
    name: str = ""
    transcript: TranscriptView | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ServiceLogs:
    """One service's lines of the bundle's window, oldest first."""

    service: str
    lines: tuple[LogLine, ...] = ()


@dataclass(frozen=True, slots=True)
class BundleSources:
    """Everything a bundle holds, before it is rendered and redacted."""

    created_at: float
    config: Config
    snapshot: SupervisorSnapshot
    host_pid: int
    in_process: bool
    profile: ProfileInfo
    gateway: GatewayFacts
    doctor: DoctorFacts
    events: tuple[ServiceEvent, ...] = ()
    events_dropped: int = 0
    probes: tuple[ProbeRecord, ...] = ()
    decisions: tuple[DecisionRecord, ...] = ()
    chat: ChatFacts = field(default_factory=ChatFacts)
    logs: tuple[ServiceLogs, ...] = ()
    log_since: float = 0.0
