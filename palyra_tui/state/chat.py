"""Chat transcripts as the UI shows them, built from run events (no textual).

A transcript is a list of items: what the operator wrote, the agent's answer
as it streams, a card per tool call (proposal, approval, decision, result) and
the run's status.  Applying an event returns the index of the item that
changed, so the UI redraws one item, not the whole conversation.

A session opened later is rebuilt from the gateway's tape with
:func:`history_items`.  palyrad's tape keeps the agent's replies, tool calls
and statuses but no copy of what a RunStream client sent, so the operator's
messages appear only for runs this process sent.

Sessions are named by :func:`time_label` when created ("chat 14:05") and by
:func:`title_from_message` once their first message is delivered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from palyra_tui.models.console import TranscriptRecord
from palyra_tui.models.gateway import DecisionScope, RunStatus
from palyra_tui.models.run_events import (
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunEvent,
    StatusEvent,
    TokenEvent,
    ToolAttestationEvent,
    ToolDecisionEvent,
    ToolProposalEvent,
    ToolResultEvent,
)
from palyra_tui.text import sanitize, visible

REFUSED_PREFIX = "approval_response_error: "
REFUSED = "refused by palyrad"
TITLE_WORDS = 6
TITLE_CHARS = 48


@dataclass(frozen=True, slots=True)
class UserItem:
    """What the operator sent."""

    text: str
    at: float


@dataclass(frozen=True, slots=True)
class AnswerItem:
    """The agent's streamed answer (one per text part)."""

    run_id: str
    text: str
    final: bool = False


@dataclass(frozen=True, slots=True)
class ToolItem:
    """One tool call from proposal to result."""

    run_id: str
    proposal_id: str
    tool_name: str
    input_json: str
    approval_id: str = ""
    approval_pending: bool = False
    decision: str = ""
    reason: str = ""
    result: str = ""
    success: bool | None = None


@dataclass(frozen=True, slots=True)
class StatusItem:
    """How a run ended (or a note about a draft)."""

    run_id: str
    text: str
    failed: bool = False


ChatItem = UserItem | AnswerItem | ToolItem | StatusItem


@dataclass
class Transcript:
    """The items of one session, in order."""

    session_id: str
    items: list[ChatItem] = field(default_factory=list)

    def add_user(self, text: str, at: float | None = None) -> int:
        """Append what the operator sent (``at``: wall time); returns its index."""
        self.items.append(UserItem(text=text, at=time.time() if at is None else at))
        return len(self.items) - 1

    def add_status(self, run_id: str, text: str, failed: bool = False) -> int:
        """Append a status line; returns its index."""
        self.items.append(StatusItem(run_id=run_id, text=text, failed=failed))
        return len(self.items) - 1

    def apply(self, event: RunEvent) -> int | None:
        """Fold one run event in; returns the index of the item that changed."""
        if isinstance(event, TokenEvent):
            last = self.items[-1] if self.items else None
            if isinstance(last, AnswerItem) and last.run_id == event.run_id and not last.final:
                self.items[-1] = replace(last, text=last.text + event.text, final=event.is_final)
                return len(self.items) - 1
            self.items.append(AnswerItem(event.run_id, event.text, event.is_final))
            return len(self.items) - 1
        if isinstance(event, ToolProposalEvent):
            self.items.append(
                ToolItem(event.run_id, event.proposal_id, event.tool_name, event.input_json)
            )
            return len(self.items) - 1
        if isinstance(event, ApprovalRequestEvent):
            return self._tool(
                event.proposal_id, approval_id=event.approval_id, approval_pending=True
            )
        if isinstance(event, ApprovalResponseEvent):
            if event.reason.startswith(REFUSED_PREFIX):
                return self._tool(
                    event.proposal_id,
                    approval_pending=False,
                    decision=REFUSED,
                    reason=refusal_sentence(event.reason, event.proposal_id),
                )
            return self._tool(
                event.proposal_id,
                approval_pending=False,
                decision="approved" if event.approved else "denied",
                reason=event.reason,
            )
        if isinstance(event, ToolDecisionEvent):
            if self._decision_of(event.proposal_id) == REFUSED:
                return None
            return self._tool(
                event.proposal_id,
                decision="allowed" if event.allowed else "denied",
                reason=event.reason,
            )
        if isinstance(event, ToolResultEvent):
            return self._tool(
                event.proposal_id,
                result=event.output_json if event.success else event.error,
                success=event.success,
            )
        if isinstance(event, ToolAttestationEvent):
            return None
        if isinstance(event, StatusEvent):
            if event.status is RunStatus.DONE:
                return self.add_status(event.run_id, "run completed")
            if event.status is RunStatus.FAILED:
                text = "run aborted" if event.cancelled else f"run failed: {event.message}"
                return self.add_status(event.run_id, text, failed=True)
        return None

    def _decision_of(self, proposal_id: str) -> str:
        for item in reversed(self.items):
            if isinstance(item, ToolItem) and item.proposal_id == proposal_id:
                return item.decision
        return ""

    def _tool(self, proposal_id: str, **changes: object) -> int | None:
        for index in range(len(self.items) - 1, -1, -1):
            item = self.items[index]
            if isinstance(item, ToolItem) and item.proposal_id == proposal_id:
                self.items[index] = replace(item, **changes)  # type: ignore[arg-type]
                return index
        return None


def refusal_sentence(reason: str, proposal_id: str) -> str:
    """What it means that palyrad answered a decision with ``approval_response_error: …``."""
    problem = reason.removeprefix(REFUSED_PREFIX)
    if "proposal_id must be a canonical ULID" in problem:
        return (
            f"palyrad refused the decision and denied the call: the model provider named "
            f"this tool call {proposal_id!r}, and palyrad takes an answer only for a "
            f"proposal id that is a ULID ({problem})"
        )
    return f"palyrad refused the decision and denied the call ({problem})"


# History from the gateway ---------------------------------------------------


def history_items(
    records: Sequence[TranscriptRecord], sent: Mapping[str, UserItem] | None = None
) -> list[ChatItem]:
    """A session's items from palyrad's tape, in order.

    ``sent`` maps run ids to the messages this process sent for them (the
    tape has none).  Token records are skipped: palyrad redacts them, and the
    reply comes whole in ``message.replied``.
    """
    sent = sent or {}
    transcript = Transcript("")
    runs_seen: set[str] = set()
    for record in records:
        if record.run_id not in runs_seen:
            runs_seen.add(record.run_id)
            if record.run_id in sent:
                transcript.items.append(sent[record.run_id])
        _apply_record(transcript, record)
    return transcript.items


def _apply_record(transcript: Transcript, record: TranscriptRecord) -> None:
    payload = _payload(record.payload_json)
    run_id = record.run_id
    kind = record.event_type
    if kind == "message.received":
        transcript.add_user(_str(payload, "text"), record.created_at_ms / 1000)
    elif kind == "message.replied":
        transcript.items.append(AnswerItem(run_id, _str(payload, "reply_text"), final=True))
    elif kind == "tool_proposal":
        transcript.items.append(
            ToolItem(
                run_id,
                _str(payload, "proposal_id"),
                _str(payload, "tool_name"),
                _json(payload.get("input_json")),
            )
        )
    elif kind == "tool_approval_request":
        transcript._tool(
            _str(payload, "proposal_id"),
            approval_id=_str(payload, "approval_id"),
            approval_pending=True,
        )
    elif kind in ("tool_approval_response", "tool_decision", "tool_result", "status"):
        event = _event(kind, run_id, payload)
        if event is not None:
            transcript.apply(event)


def _event(
    kind: str, run_id: str, payload: dict[str, Any]
) -> ApprovalResponseEvent | ToolDecisionEvent | ToolResultEvent | StatusEvent | None:
    proposal_id = _str(payload, "proposal_id")
    if kind == "tool_approval_response":
        return ApprovalResponseEvent(
            run_id,
            proposal_id,
            _str(payload, "approval_id"),
            payload.get("approved") is True,
            _str(payload, "reason"),
            DecisionScope.ONCE,
            0,
        )
    if kind == "tool_decision":
        allowed = payload.get("kind") == "allow"
        return ToolDecisionEvent(run_id, proposal_id, allowed, _str(payload, "reason"), True, True)
    if kind == "tool_result":
        success = payload.get("success") is True
        return ToolResultEvent(
            run_id, proposal_id, success, _json(payload.get("output_json")), _str(payload, "error")
        )
    status = {"done": RunStatus.DONE, "failed": RunStatus.FAILED}.get(_str(payload, "kind"))
    if status is None:
        return None
    return StatusEvent(run_id, status, _str(payload, "message"))


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return sanitize(value) if isinstance(value, str) else ""


def _json(value: Any) -> str:
    """A decoded JSON value as JSON text again, controls made visible."""
    if value is None:
        return ""
    return visible(json.dumps(value, ensure_ascii=False))


# Session names ----------------------------------------------------------------


def time_label(wall_time: float) -> str:
    """The name a new session gets: ``chat 14:05`` (local time)."""
    return time.strftime("chat %H:%M", time.localtime(wall_time))


def title_from_message(text: str) -> str:
    """A session's name from its first message: its first words, on one line."""
    words = sanitize(text).split()
    title = " ".join(words[:TITLE_WORDS])
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    elif len(words) > TITLE_WORDS:
        title += " …"
    return title


def activity_label(last_activity_ms: int, now: float) -> str:
    """When a session was last active: ``just now``, ``5 min ago``, ``14:05`` or ``2 Dec``."""
    if not last_activity_ms:
        return ""
    at = last_activity_ms / 1000
    ago = now - at
    if ago < 60:
        return "just now"
    if ago < 3600:
        return f"{int(ago // 60)} min ago"
    local = time.localtime(at)
    if local[:3] == time.localtime(now)[:3]:
        return time.strftime("%H:%M", local)
    return f"{local.tm_mday} {time.strftime('%b', local)}"
