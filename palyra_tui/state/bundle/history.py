"""The members of a support bundle that tell what happened: the services' state changes,
the health probes' results and the approval decisions made from this runtime."""

from __future__ import annotations

from collections.abc import Callable

from palyra_tui.models import ServiceEvent, SupervisorSnapshot
from palyra_tui.models.gateway import DecisionScope
from palyra_tui.state.bundle.sources import BundleSources
from palyra_tui.state.decisions import DecisionRecord, describe_answer
from palyra_tui.supervisor.health import PROBE_RECORDS, ProbeRecord
from palyra_tui.supervisor.journal import JOURNAL_EVENTS

Stamp = Callable[[float], str]


def timeline_text(sources: BundleSources, utc: Stamp) -> str:
    """Starts, exits (code or signal), restarts, holds and stops, oldest first; then where
    each service stands now."""
    lost = sources.events_dropped
    note = f"; {lost} older ones were let go" if lost else ""
    out = [
        "The services' state changes, oldest first "
        f"(the newest {JOURNAL_EVENTS:,} are kept{note}).",
        "",
    ]
    width = max((len(event.service) for event in sources.events), default=8)
    held: dict[str, bool] = {}
    for event in sources.events:
        facts = _event_details(event, utc)
        if held.get(event.service, False) and not event.held:
            facts.append("restarts released")
        held[event.service] = event.held
        details = "; ".join(facts)
        out.append(f"{utc(event.ts)}  {event.service:<{width}}  {event.state.value:<8}  {details}")
    if not sources.events:
        out.append("(no state change yet)")
    out += ["", "Now:", *_now(sources.snapshot, sources.created_at)]
    return "\n".join(out).rstrip() + "\n"


def _event_details(event: ServiceEvent, utc: Stamp) -> list[str]:
    details: list[str] = []
    if event.pid is not None:
        details.append(f"pid {event.pid}")
    if event.exit is not None:
        ended = event.exit.description
        details.append(f"{ended} after {event.exit.uptime:.1f} s")
    if event.reason:
        details.append(event.reason)
    if event.attempt:
        details.append(f"attempt {event.attempt}")
    if event.next_attempt_at is not None:
        details.append(f"next start {utc(event.next_attempt_at)}")
    if event.held:
        details.append("restarts held")
    return details


def _now(snapshot: SupervisorSnapshot, at: float) -> list[str]:
    lines = []
    for service in snapshot.services:
        facts = [f"restarts {service.restarts}"]
        if service.pid is not None:
            facts.append(f"pid {service.pid}")
        uptime = service.uptime(at)
        if uptime is not None:
            facts.append(f"up {uptime:.0f} s")
        if service.held:
            facts.append("restarts held")
        if service.last_exit is not None:
            facts.append(f"last exit: {service.last_exit.description}")
        if not service.enabled:
            facts.append("disabled")
        if service.reason:
            facts.append(service.reason)
        lines.append(f"  {service.name}: {service.state.value}; " + "; ".join(facts))
    return lines or ["  (no service is configured)"]


def health_text(sources: BundleSources, utc: Stamp) -> str:
    """The probes' results as runs of alike results, oldest first; then the latest of each."""
    out = [
        "Health probes, as runs of alike results (same state, reason and version), oldest "
        f"first; the newest {PROBE_RECORDS:,} runs are kept.",
        "",
    ]
    for record in sources.probes:
        out.append(_probe_line(record, utc))
    if not sources.probes:
        out.append("(no probe has run yet)")
    out += ["", "Latest:"]
    for service in sources.snapshot.services:
        health = service.health
        when = f" at {utc(health.checked_at)}" if health.checked_at is not None else ""
        reason = f": {health.reason}" if health.reason else ""
        out.append(f"  {service.name}: {health.state.value}{reason}{when}")
    return "\n".join(out) + "\n"


def _probe_line(record: ProbeRecord, utc: Stamp) -> str:
    span = utc(record.first_at)
    if record.count > 1:
        span += f" to {utc(record.last_at)}"
    facts = [f"{record.count} probe{'s' if record.count != 1 else ''}"]
    if record.latency_ms is not None:
        highest = record.max_latency_ms if record.max_latency_ms is not None else 0.0
        facts.append(f"last {record.latency_ms:.1f} ms, max {highest:.1f} ms")
    if record.version:
        facts.append(f"version {record.version}")
    if record.reason:
        facts.append(record.reason)
    return f"{span}  {record.service}  {record.state.value}  " + "; ".join(facts)


def approvals_text(sources: BundleSources, utc: Stamp) -> str:
    """Each decision sent from this runtime: who, when, what, and its scope."""
    out = [
        "Approval decisions made from this runtime, oldest first (since it started, or since "
        "the last profile switch).",
        "",
    ]
    for record in sources.decisions:
        out += _decision(record, utc)
    if not sources.decisions:
        out.append("(no decision was made from this runtime)")
    return "\n".join(out).rstrip() + "\n"


def _decision(record: DecisionRecord, utc: Stamp) -> list[str]:
    answer = record.answer
    verdict = "allowed" if answer.approved else "denied"
    who = record.by or "the control center of this process"
    lines = [
        f"{utc(record.at)}  {verdict}  {record.tool_name or 'a tool call'}  "
        f"approval {record.approval_id}",
        f"  by: {who}",
        f"  decision: {describe_answer(answer)}",
        f"  scope: {_scope(answer.scope, answer.ttl_ms) if answer.approved else 'this call'}",
    ]
    if answer.reason:
        lines.append(f"  reason: {answer.reason}")
    if record.session_id or record.run_id:
        lines.append(f"  session {record.session_id or '-'}, run {record.run_id or '-'}")
    if record.input_json:
        lines.append("  input: " + record.input_json.replace("\n", "\n         "))
    lines.append("")
    return lines


def _scope(scope: DecisionScope, ttl_ms: int) -> str:
    if scope is DecisionScope.TIMEBOXED:
        return f"timeboxed, {ttl_ms / 1000:g} s"
    if scope is DecisionScope.SESSION:
        return "the rest of the session"
    if scope is DecisionScope.ONCE:
        return "once"
    return str(scope.value)
