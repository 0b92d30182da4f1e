"""Value types describing supervised services: their state, health, exits and stats.

Everything here is immutable and compared by value, so a snapshot that did not
change compares equal to the previous one and costs a watcher nothing.
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass, field

from palyra_tui.models.logs import LogCounters


class ServiceState(enum.Enum):
    """Lifecycle of one supervised service.

    STOPPED   not wanted, not running
    STARTING  spawned, inside its start grace period
    RUNNING   up past the start grace period
    STOPPING  stop signal sent, waiting for the process group to end
    BACKOFF   down (exited, or could not be spawned) and scheduled to start again
    HELD      down, and the operator holds its restarts
    EXITED    ended and its restart policy says not to restart it
    FAILED    gave up after ``max_restarts`` consecutive failures
    """

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    BACKOFF = "backoff"
    HELD = "held"
    EXITED = "exited"
    FAILED = "failed"

    @property
    def is_up(self) -> bool:
        """True while a process for the service exists."""
        return self in _UP_STATES


_UP_STATES = frozenset({ServiceState.STARTING, ServiceState.RUNNING, ServiceState.STOPPING})


class RestartPolicy(enum.Enum):
    """When a service that ended is started again."""

    ALWAYS = "always"
    ON_FAILURE = "on-failure"
    NEVER = "never"


class ServiceKind(enum.Enum):
    """The built-in Palyra daemons, and services the operator defined."""

    GATEWAY = "gateway"
    BROWSERD = "browserd"
    NODE_HOST = "node_host"
    CUSTOM = "custom"


class HealthState(enum.Enum):
    """Result of the latest health probe."""

    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """The latest probe: its state, why, and how long it took."""

    state: HealthState = HealthState.NOT_CHECKED
    reason: str = ""
    latency_ms: float | None = None
    """How long probes take: the median of the last five, moved only when it moves by more
    than 2 ms and a quarter (so that jitter is not news); None without an answer."""
    version: str | None = None
    checked_at: float | None = field(default=None, compare=False)
    """When the probe ran; like ``taken_at``, it never makes two results differ."""


@dataclass(frozen=True, slots=True)
class ExitInfo:
    """How a process ended, decoded for a person."""

    code: int | None
    signal: int | None
    at: float
    uptime: float

    @property
    def success(self) -> bool:
        """True for a clean ``exit(0)``."""
        return self.code == 0

    @property
    def signal_name(self) -> str | None:
        """``SIGKILL`` and the like, or None when the process exited by itself."""
        if self.signal is None:
            return None
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"

    @property
    def description(self) -> str:
        """``exited with code 3`` or ``killed by SIGKILL``."""
        if self.signal is not None:
            return f"killed by {self.signal_name}"
        return f"exited with code {self.code}"


@dataclass(frozen=True, slots=True)
class ProcessStats:
    """A psutil sample of the service's main process."""

    cpu_percent: float = 0.0
    """CPU use averaged over the last five seconds or so (100 is one core), from the
    process's cumulative CPU time. It moves only when that average moves by more than one
    clock tick over the window (0.2 %), so a steady load reads steady; 0.0 until the
    process has been sampled twice."""
    rss_bytes: int = 0
    threads: int = 0
    open_files: int = 0


@dataclass(frozen=True, slots=True)
class ServiceSnapshot:
    """Everything known about one service at one moment."""

    name: str
    kind: ServiceKind
    state: ServiceState
    desired: bool
    enabled: bool = True
    held: bool = False
    pid: int | None = None
    started_at: float | None = None
    restarts: int = 0
    attempt: int = 0
    max_restarts: int = 0
    next_attempt_at: float | None = None
    last_exit: ExitInfo | None = None
    reason: str = ""
    health: HealthStatus = HealthStatus()
    stats: ProcessStats | None = None
    logs: LogCounters = LogCounters()
    binary: str | None = None
    endpoints: tuple[tuple[str, str], ...] = ()

    def uptime(self, now: float) -> float | None:
        """Seconds since the current process started, for a clock reading ``now``."""
        if self.started_at is None or not self.state.is_up:
            return None
        return max(0.0, now - self.started_at)

    def next_attempt_in(self, now: float) -> float | None:
        """Seconds until the next start attempt, or None when none is scheduled."""
        if self.next_attempt_at is None:
            return None
        return max(0.0, self.next_attempt_at - now)


@dataclass(frozen=True, slots=True)
class SupervisorSnapshot:
    """All services, in configuration order. ``taken_at`` never affects equality."""

    services: tuple[ServiceSnapshot, ...] = ()
    state_root: str = ""
    taken_at: float = field(default=0.0, compare=False)

    def get(self, name: str) -> ServiceSnapshot | None:
        """The service called ``name``, if there is one."""
        for service in self.services:
            if service.name == name:
                return service
        return None


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """A state change of one service, as subscribers and ``supervise`` see it."""

    ts: float
    service: str
    state: ServiceState
    pid: int | None
    reason: str = ""
    exit: ExitInfo | None = None
    attempt: int = 0
    next_attempt_at: float | None = None
    held: bool = False
    """The operator holds the service's automatic restarts."""
