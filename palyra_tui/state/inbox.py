"""One inbox of approvals: those palyra-tui's own runs received, and the gateway's list.

An approval raised inside one of our RunStreams can only be answered on that
stream; any other pending approval is decided through the console API.  The
inbox keeps the first time it saw each approval, which drives the countdown
and the arming delay that protects against keys typed ahead.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from palyra_tui.models.gateway import Approval, ApprovalRequestEvent, RiskLevel


class Route(enum.Enum):
    """How a decision reaches the gateway."""

    STREAM = "stream"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One approval waiting for a person."""

    approval_id: str
    route: Route
    run_id: str
    session_id: str
    tool_name: str
    title: str
    summary: str
    input_json: str
    risk: RiskLevel
    policy_explanation: str
    timeout_seconds: int
    requested_at: float

    @property
    def deadline(self) -> float | None:
        """When the gateway gives up on an answer (wall clock), if it says."""
        if not self.timeout_seconds:
            return None
        return self.requested_at + self.timeout_seconds


def from_stream(event: ApprovalRequestEvent, session_id: str, seen_at: float) -> InboxEntry:
    """An approval our own run received."""
    return InboxEntry(
        approval_id=event.approval_id,
        route=Route.STREAM,
        run_id=event.run_id,
        session_id=session_id,
        tool_name=event.tool_name,
        title=event.prompt.title or f"Approve {event.tool_name}",
        summary=event.request_summary or event.prompt.summary,
        input_json=event.input_json,
        risk=event.prompt.risk,
        policy_explanation=event.prompt.policy_explanation,
        timeout_seconds=event.prompt.timeout_seconds,
        requested_at=seen_at,
    )


def from_record(record: Approval) -> InboxEntry:
    """An approval from the gateway's journal."""
    return InboxEntry(
        approval_id=record.approval_id,
        route=Route.CONSOLE,
        run_id=record.run_id,
        session_id=record.session_id,
        tool_name=record.subject_id.removeprefix("tool:").split("|", 1)[0],
        title=record.prompt.title or record.subject_id,
        summary=record.request_summary or record.prompt.summary,
        input_json=_input_from_details(record.prompt.details_json),
        risk=record.prompt.risk,
        policy_explanation=record.prompt.policy_explanation,
        timeout_seconds=record.prompt.timeout_seconds,
        requested_at=record.requested_at_ms / 1000 if record.requested_at_ms else 0.0,
    )


def merge(
    stream: tuple[InboxEntry, ...], records: tuple[Approval, ...], decided: frozenset[str]
) -> tuple[InboxEntry, ...]:
    """Stream entries first (they are answerable in place), then the gateway's, oldest first."""
    seen = {entry.approval_id for entry in stream}
    entries = [entry for entry in stream if entry.approval_id not in decided]
    entries += [
        from_record(record)
        for record in records
        if record.pending and record.approval_id not in seen and record.approval_id not in decided
    ]
    return tuple(sorted(entries, key=lambda entry: entry.requested_at))


def _input_from_details(details_json: str) -> str:
    try:
        details = json.loads(details_json)
    except ValueError:
        return details_json
    if isinstance(details, dict) and "input" in details:
        return json.dumps(details["input"], indent=2, ensure_ascii=False)
    return details_json
