"""``palyra-tui status``: the runtime at a glance, for a person or a monitor.

It asks the host for its status report in one call and exits: 0 when the
runtime is healthy, 1 when it is degraded or down, 4 when no runtime host runs.
``--json`` prints one document whose fields are only ever added to (docs/cli.md
has the schema).  It loads neither Textual nor the chat and approval models.
"""

from __future__ import annotations

import sys
from typing import Any

from palyra_tui.cli.connect import HostStatus, read_status
from palyra_tui.cli.exits import EXIT_ERROR, EXIT_OK
from palyra_tui.cli.formats import clean, clock_time, dump, duration, plural, seconds, size, table
from palyra_tui.config import Config
from palyra_tui.host.protocol import HostInfo
from palyra_tui.host.report import ApprovalBrief, Overall, StatusReport
from palyra_tui.models import ExitInfo, HealthStatus, ServiceSnapshot
from palyra_tui.models.clock import Clock, SystemClock


async def run_status(config: Config, *, as_json: bool, clock: Clock | None = None) -> int:
    """Print the status; the exit code says whether the runtime is healthy."""
    found = await read_status(config, "status")
    now = (clock or SystemClock()).time()
    text = dump(status_document(found, now)) if as_json else render_status(found, now)
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_OK if found.report.overall is Overall.HEALTHY else EXIT_ERROR


# JSON ---------------------------------------------------------------------------


def status_document(found: HostStatus, now: float) -> dict[str, Any]:
    """The ``status --json`` document."""
    report = found.report
    gateway = report.gateway
    unwell = frozenset(report.unwell)
    return {
        "overall": report.overall.value,
        "host": host_record(found.host, report, now),
        "gateway": {
            "connection": gateway.connection.value,
            "target": gateway.target,
            "dashboard_url": gateway.dashboard_url,
            "version": gateway.version,
            "status": gateway.status,
            "uptime": gateway.uptime,
            "errors": [{"source": e.source, "message": e.message} for e in gateway.errors],
        },
        "services": [service_record(s, now, s.name in unwell) for s in report.services],
        "approvals": [approval_brief(approval) for approval in report.approvals],
        "runs": [
            {"run_id": run.run_id, "session_id": run.session_id, "aborting": run.aborting}
            for run in report.runs
        ],
        "drafts": report.drafts,
        "profile": {"name": report.profile, "supervised": not report.not_supervised},
    }


def host_record(host: HostInfo, report: StatusReport, now: float) -> dict[str, Any]:
    """The runtime host: its process, version, age and clients."""
    return {
        "pid": host.host_pid,
        "version": host.version,
        "protocol": host.protocol,
        "state_root": host.state_root,
        "started_at": seconds(host.started_at),
        "uptime": seconds(max(0.0, now - host.started_at)),
        "clients": report.clients,
    }


def service_record(service: ServiceSnapshot, now: float, unwell: bool) -> dict[str, Any]:
    """One service as ``status --json`` prints it."""
    stats = service.stats
    return {
        "name": service.name,
        "kind": service.kind.value,
        "state": service.state.value,
        "enabled": service.enabled,
        "desired": service.desired,
        "held": service.held,
        "unwell": unwell,
        "pid": service.pid,
        "started_at": seconds(service.started_at),
        "uptime": seconds(service.uptime(now)),
        "restarts": service.restarts,
        "attempt": service.attempt,
        "max_restarts": service.max_restarts,
        "next_attempt_at": seconds(service.next_attempt_at),
        "next_attempt_in": seconds(service.next_attempt_in(now)),
        "reason": service.reason,
        "health": health_record(service.health),
        "cpu_percent": round(stats.cpu_percent, 1) if stats is not None else None,
        "rss_bytes": stats.rss_bytes if stats is not None else None,
        "last_exit": exit_record(service.last_exit),
    }


def health_record(health: HealthStatus) -> dict[str, Any]:
    """The latest health probe."""
    return {
        "state": health.state.value,
        "reason": health.reason,
        "latency_ms": round(health.latency_ms, 1) if health.latency_ms is not None else None,
        "version": health.version,
        "checked_at": seconds(health.checked_at),
    }


def exit_record(ended: ExitInfo | None) -> dict[str, Any] | None:
    """How the service's last process ended."""
    if ended is None:
        return None
    return {
        "code": ended.code,
        "signal": ended.signal_name,
        "at": seconds(ended.at),
        "uptime": seconds(ended.uptime),
    }


def approval_brief(approval: ApprovalBrief) -> dict[str, Any]:
    """An approval as ``status`` lists it (``approvals --json`` has every field)."""
    return {
        "id": approval.approval_id,
        "tool_name": approval.tool_name,
        "what": approval.what or approval.tool_name,
        "session_id": approval.session_id,
        "risk": approval.risk,
        "requested_at": seconds(approval.requested_at),
        "deadline": seconds(approval.deadline),
    }


# Text -------------------------------------------------------------------------------


def render_status(found: HostStatus, now: float) -> str:
    """The status as a person reads it."""
    report = found.report
    gateway = report.gateway
    link = f"gateway {gateway.connection.value}"
    if gateway.version is not None:
        link = f"gateway {clean(gateway.version)} {gateway.connection.value}"
    if gateway.target:
        link += f" at {clean(gateway.target)}"
    summary = [
        report.overall.value,
        link,
        f"{plural(len(report.approvals), 'approval')} pending",
        f"{plural(len(report.runs), 'run')} active",
    ]
    if report.drafts:
        summary.append(plural(report.drafts, "offline draft"))
    summary.append(f"profile {clean(report.profile)}")
    host = found.host
    lines = [
        " · ".join(summary),
        f"runtime host pid {host.host_pid} (palyra-tui {clean(host.version)}), "
        f"up {duration(now - host.started_at)}, {plural(report.clients, 'client')} · "
        f"{clean(host.state_root)}",
        "",
    ]
    if report.not_supervised:
        lines.append(clean(report.not_supervised))
    else:
        rows = [_service_row(service, now) for service in report.services]
        header = ("SERVICE", "STATE", "PID", "UPTIME", "RESTARTS", "NEXT", "HEALTH", "CPU", "MEM")
        lines += table(header, rows)
    unwell = frozenset(report.unwell)
    notes = [
        f"{clean(s.name)}: {clean(s.reason)}"
        for s in report.services
        if s.reason and (s.name in unwell or not s.state.is_up)
    ]
    notes += [f"{clean(e.source)}: {clean(e.message)}" for e in gateway.errors]
    for approval in report.approvals:
        notes.append(
            f"approval {clean(approval.approval_id)}: {clean(approval.what or approval.tool_name)} "
            f"({clean(approval.risk)} risk), asked at {clock_time(approval.requested_at)}"
        )
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _service_row(service: ServiceSnapshot, now: float) -> tuple[str, ...]:
    stats = service.stats
    state = service.state.value + (" (held)" if service.held and service.state.is_up else "")
    health = service.health.state.value
    if service.health.latency_ms is not None:
        health += f" {service.health.latency_ms:.0f} ms"
    next_in = service.next_attempt_in(now)
    return (
        clean(service.name),
        state,
        str(service.pid) if service.pid is not None else "-",
        duration(service.uptime(now)),
        str(service.restarts),
        f"in {duration(next_in)}" if next_in is not None else "-",
        health,
        f"{stats.cpu_percent:.1f}%" if stats is not None else "-",
        size(stats.rss_bytes) if stats is not None else "-",
    )
