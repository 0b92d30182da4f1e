"""Frozen value types shared by every layer (the bottom of the dependency graph)."""

from palyra_tui.models.logs import NO_FIELDS, LogCounters, LogLevel, LogLine, LogStream
from palyra_tui.models.services import (
    ExitInfo,
    HealthState,
    HealthStatus,
    ProcessStats,
    RestartPolicy,
    ServiceEvent,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)

__all__ = [
    "NO_FIELDS",
    "ExitInfo",
    "HealthState",
    "HealthStatus",
    "LogCounters",
    "LogLevel",
    "LogLine",
    "LogStream",
    "ProcessStats",
    "RestartPolicy",
    "ServiceEvent",
    "ServiceKind",
    "ServiceSnapshot",
    "ServiceState",
    "SupervisorSnapshot",
]
