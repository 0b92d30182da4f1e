"""What a chat run's stream says, event by event, as the gateway sends it.

Apart from the gateway's other records because only the runtime reads them;
the UI's first frame does not load them.
"""

from __future__ import annotations

from dataclasses import dataclass

from palyra_tui.models.gateway import CANCELLED_MESSAGE, ApprovalPrompt, DecisionScope, RunStatus


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A run's status changed. FAILED with ``cancelled`` means it was aborted."""

    run_id: str
    status: RunStatus
    message: str = ""

    @property
    def cancelled(self) -> bool:
        """True for the FAILED event an abort produces."""
        return self.status is RunStatus.FAILED and self.message == CANCELLED_MESSAGE


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """A chunk of the model's answer."""

    run_id: str
    text: str
    is_final: bool


@dataclass(frozen=True, slots=True)
class ToolProposalEvent:
    """The model wants to call a tool."""

    run_id: str
    proposal_id: str
    tool_name: str
    input_json: str
    approval_required: bool


@dataclass(frozen=True, slots=True)
class ApprovalRequestEvent:
    """The gateway waits for a person's decision on this stream."""

    run_id: str
    proposal_id: str
    approval_id: str
    tool_name: str
    input_json: str
    request_summary: str
    prompt: ApprovalPrompt


@dataclass(frozen=True, slots=True)
class ApprovalResponseEvent:
    """The gateway echoes the decision it applied."""

    run_id: str
    proposal_id: str
    approval_id: str
    approved: bool
    reason: str
    scope: DecisionScope
    scope_ttl_ms: int


@dataclass(frozen=True, slots=True)
class ToolDecisionEvent:
    """Whether the tool call may run."""

    run_id: str
    proposal_id: str
    allowed: bool
    reason: str
    approval_required: bool
    policy_enforced: bool


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """What the tool returned."""

    run_id: str
    proposal_id: str
    success: bool
    output_json: str
    error: str


@dataclass(frozen=True, slots=True)
class ToolAttestationEvent:
    """Proof that the tool ran (or timed out)."""

    run_id: str
    proposal_id: str
    attestation_id: str
    execution_sha256: str
    executed_at_ms: int
    timed_out: bool
    executor: str


RunEvent = (
    StatusEvent
    | TokenEvent
    | ToolProposalEvent
    | ApprovalRequestEvent
    | ApprovalResponseEvent
    | ToolDecisionEvent
    | ToolResultEvent
    | ToolAttestationEvent
)
