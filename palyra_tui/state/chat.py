"""Chat transcripts as the UI shows them, built from run events (no textual).

A transcript is a list of items: what the operator wrote, the agent's answer
as it streams, a card per tool call (proposal, approval, decision, result) and
the run's status.  Applying an event returns the index of the item that
changed, so the UI redraws one item, not the whole conversation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from palyra_tui.models.gateway import (
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunEvent,
    RunStatus,
    StatusEvent,
    TokenEvent,
    ToolAttestationEvent,
    ToolDecisionEvent,
    ToolProposalEvent,
    ToolResultEvent,
)


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

    def add_user(self, text: str) -> int:
        """Append what the operator sent; returns its index."""
        self.items.append(UserItem(text=text, at=time.time()))
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
            return self._tool(
                event.proposal_id,
                approval_pending=False,
                decision="approved" if event.approved else "denied",
                reason=event.reason,
            )
        if isinstance(event, ToolDecisionEvent):
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

    def _tool(self, proposal_id: str, **changes: object) -> int | None:
        for index in range(len(self.items) - 1, -1, -1):
            item = self.items[index]
            if isinstance(item, ToolItem) and item.proposal_id == proposal_id:
                self.items[index] = replace(item, **changes)  # type: ignore[arg-type]
                return index
        return None
