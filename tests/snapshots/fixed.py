"""Fixed data and a fixed clock for the SVG snapshot tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.models import (
    ExitInfo,
    HealthState,
    HealthStatus,
    LogCounters,
    LogLevel,
    LogLine,
    LogStream,
    ProcessStats,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.clock import ManualClock
from palyra_tui.models.gateway import (
    ApprovalPrompt,
    ApprovalRequestEvent,
    GatewayHealth,
    RiskLevel,
    SessionSummary,
    TokenEvent,
    ToolProposalEvent,
)
from palyra_tui.state.inbox import from_stream
from palyra_tui.state.snapshot import AppSnapshot, ConnectionState
from palyra_tui.ui.app import PalyraApp

NOW = 1_795_200_000.0
SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"
RUN = "01JQ7P4NQ2T7K5XG0C9M3E8BBB"


def services() -> tuple[ServiceSnapshot, ...]:
    healthy = HealthStatus(HealthState.HEALTHY, "", 0.8, "0.1.0", NOW)
    return (
        ServiceSnapshot(
            name="gateway",
            kind=ServiceKind.GATEWAY,
            state=ServiceState.RUNNING,
            desired=True,
            pid=4101,
            started_at=NOW - 3725,
            health=healthy,
            stats=ProcessStats(1.5, 48_000_000, 12, 40),
            logs=LogCounters(120, 120),
            binary="/usr/local/bin/palyrad",
            endpoints=(("grpc_listen_addr", "127.0.0.1:7443"), ("listen_addr", "127.0.0.1:7142")),
        ),
        ServiceSnapshot(
            name="browserd",
            kind=ServiceKind.BROWSERD,
            state=ServiceState.BACKOFF,
            desired=True,
            restarts=3,
            attempt=4,
            next_attempt_at=NOW + 12,
            last_exit=ExitInfo(code=1, signal=None, at=NOW - 4, uptime=0.4),
            reason="exited with code 1",
            binary="/usr/local/bin/palyra-browserd",
        ),
        ServiceSnapshot(
            name="node_host",
            kind=ServiceKind.NODE_HOST,
            state=ServiceState.STOPPED,
            desired=False,
            enabled=False,
            reason="node host is not enrolled",
        ),
    )


def app_snapshot() -> AppSnapshot:
    return AppSnapshot(
        supervisor=SupervisorSnapshot(services=services(), state_root="/srv/palyra"),
        gateway_target="127.0.0.1:7443",
        gateway_health=GatewayHealth("palyrad", "ok", "0.1.0", "abc123", "release", 3720),
        connection=ConnectionState.CONNECTED,
        sessions=(
            SessionSummary(session_id=SESSION, title="deploy checks", last_run_state="in_progress"),
        ),
        taken_at=NOW,
    )


LINES = (
    LogLine(
        1,
        NOW - 30,
        "gateway",
        LogStream.STDOUT,
        "daemon listening",
        LogLevel.INFO,
        "palyra_daemon",
        (("listen_addr", "127.0.0.1:7142"),),
    ),
    LogLine(
        1,
        NOW - 20,
        "browserd",
        LogStream.STDERR,
        "Error: failed to bind 127.0.0.1:7143",
        LogLevel.ERROR,
    ),
    LogLine(
        2,
        NOW - 19,
        "browserd",
        LogStream.SUPERVISOR,
        "⟂ 1,204 lines dropped: no longer in the buffer",
        LogLevel.WARN,
        dropped=1204,
    ),
    LogLine(
        2,
        NOW - 10,
        "gateway",
        LogStream.STDOUT,
        "approval requested",
        LogLevel.INFO,
        "palyra_daemon::tool_flow",
        (("approval_id", "01JQ7P4NQ2T7K5XG0C9M3E8CCC"),),
    ),
)


class _Feed:
    def __init__(self, lines: tuple[LogLine, ...]) -> None:
        self._lines = lines

    def __aiter__(self) -> AsyncIterator[tuple[LogLine, ...]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[LogLine, ...]]:
        yield self._lines
        await asyncio.Event().wait()

    def close(self) -> None:
        return None


class _Config:
    state_dir = Path("/nonexistent/palyra-tui")
    log_mib = 64
    log_total_mib = 256


class FixedSupervisor:
    """Answers like a supervisor, from fixed data."""

    config = _Config()

    def snapshot(self) -> SupervisorSnapshot:
        return app_snapshot().supervisor

    def service_names(self) -> tuple[str, ...]:
        return ("gateway", "browserd", "node_host")

    def tail(self, name: str, count: int, stream: LogStream | None = None) -> tuple[LogLine, ...]:
        return tuple(line for line in LINES if line.service == name)[-count:]

    def subscribe_logs(self, *_: Any, **__: Any) -> _Feed:
        return _Feed(LINES)

    def subscribe_events(self) -> _Feed:
        return _Feed(())


def fixed_app() -> PalyraApp:
    """The app over fixed data, with a clock that never moves."""

    async def collect() -> AppSnapshot:
        return app_snapshot()

    app = PalyraApp(
        FixedSupervisor(),  # type: ignore[arg-type]
        ClientIdentity(admin_token="fixed-token"),
        RuntimeConfig(),
        owns_services=False,
        interval=3600,
        notifications=False,
        clock=ManualClock(NOW),
        collect=collect,
    )
    transcript = app.runs.transcript(SESSION)
    transcript.add_user("please run `df -h`")
    transcript.apply(TokenEvent(RUN, "I will run a shell command: df -h.", True))
    transcript.apply(
        ToolProposalEvent(
            RUN,
            "01JQ7P4NQ2T7K5XG0C9M3E8DDD",
            "palyra.process.run",
            '{"command": "df -h", "cwd": "."}',
            True,
        )
    )
    request = ApprovalRequestEvent(
        RUN,
        "01JQ7P4NQ2T7K5XG0C9M3E8DDD",
        "01JQ7P4NQ2T7K5XG0C9M3E8CCC",
        "palyra.process.run",
        '{"command": "df -h", "cwd": "."}',
        "run a shell command: df -h",
        ApprovalPrompt(
            title="Approve palyra.process.run",
            risk=RiskLevel.HIGH,
            timeout_seconds=60,
            policy_explanation="process execution needs approval",
        ),
    )
    transcript.apply(request)
    app.runs._stream[request.approval_id] = (
        from_stream(request, SESSION, NOW - 20),
        None,  # type: ignore[assignment]
        request,
    )
    return app
