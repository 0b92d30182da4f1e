"""Protobuf messages → palyra-tui's own frozen models (and back, for requests).

This is the only module that reads fields of generated messages; nothing it
returns is a protobuf object.
"""

from __future__ import annotations

from palyra_tui.client.errors import ProtocolError
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc._generated.palyra.v1 import gateway_pb2 as gateway
from palyra_tui.models.gateway import (
    AbortResult,
    Approval,
    ApprovalAnswer,
    ApprovalDecision,
    ApprovalOption,
    ApprovalPrompt,
    CleanedSession,
    DecisionScope,
    GatewayHealth,
    ResolvedSession,
    RiskLevel,
    RunStatus,
    SessionSummary,
    SubjectType,
)
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

_RISK = {
    common.APPROVAL_RISK_LEVEL_UNSPECIFIED: RiskLevel.UNSPECIFIED,
    common.APPROVAL_RISK_LEVEL_LOW: RiskLevel.LOW,
    common.APPROVAL_RISK_LEVEL_MEDIUM: RiskLevel.MEDIUM,
    common.APPROVAL_RISK_LEVEL_HIGH: RiskLevel.HIGH,
    common.APPROVAL_RISK_LEVEL_CRITICAL: RiskLevel.CRITICAL,
}
_SCOPE = {
    common.APPROVAL_DECISION_SCOPE_UNSPECIFIED: DecisionScope.UNSPECIFIED,
    common.APPROVAL_DECISION_SCOPE_ONCE: DecisionScope.ONCE,
    common.APPROVAL_DECISION_SCOPE_SESSION: DecisionScope.SESSION,
    common.APPROVAL_DECISION_SCOPE_TIMEBOXED: DecisionScope.TIMEBOXED,
}
SCOPE_TO_PROTO = {scope: number for number, scope in _SCOPE.items()}
_DECISION = {
    gateway.APPROVAL_DECISION_UNSPECIFIED: ApprovalDecision.PENDING,
    gateway.APPROVAL_DECISION_ALLOW: ApprovalDecision.ALLOW,
    gateway.APPROVAL_DECISION_DENY: ApprovalDecision.DENY,
    gateway.APPROVAL_DECISION_TIMEOUT: ApprovalDecision.TIMEOUT,
    gateway.APPROVAL_DECISION_ERROR: ApprovalDecision.ERROR,
}
DECISION_TO_PROTO = {decision: number for number, decision in _DECISION.items()}
_SUBJECT = {
    gateway.APPROVAL_SUBJECT_TYPE_UNSPECIFIED: SubjectType.UNSPECIFIED,
    gateway.APPROVAL_SUBJECT_TYPE_TOOL: SubjectType.TOOL,
    gateway.APPROVAL_SUBJECT_TYPE_CHANNEL_SEND: SubjectType.CHANNEL_SEND,
    gateway.APPROVAL_SUBJECT_TYPE_SECRET_ACCESS: SubjectType.SECRET_ACCESS,
    gateway.APPROVAL_SUBJECT_TYPE_BROWSER_ACTION: SubjectType.BROWSER_ACTION,
    gateway.APPROVAL_SUBJECT_TYPE_NODE_CAPABILITY: SubjectType.NODE_CAPABILITY,
    gateway.APPROVAL_SUBJECT_TYPE_DEVICE_PAIRING: SubjectType.DEVICE_PAIRING,
}
SUBJECT_TO_PROTO = {subject: number for number, subject in _SUBJECT.items()}
_STATUS = {
    common.StreamStatus.STATUS_KIND_UNSPECIFIED: RunStatus.UNSPECIFIED,
    common.StreamStatus.STATUS_KIND_ACCEPTED: RunStatus.ACCEPTED,
    common.StreamStatus.STATUS_KIND_IN_PROGRESS: RunStatus.IN_PROGRESS,
    common.StreamStatus.STATUS_KIND_DONE: RunStatus.DONE,
    common.StreamStatus.STATUS_KIND_FAILED: RunStatus.FAILED,
}


def text(value: str) -> str:
    """A gateway string made safe for a terminal."""
    return sanitize(value)


def json_text(value: bytes) -> str:
    """A JSON payload as text, whole: controls are made visible, never deleted.

    Tool input is what an operator approves, so a stray control character must
    not be able to hide the rest of a line.
    """
    return visible(value.decode("utf-8", errors="replace"))


def ulid(value: common.CanonicalId) -> str:
    """The id inside a ``CanonicalId`` (empty when unset)."""
    return text(value.ulid)


def canonical(value: str) -> common.CanonicalId:
    """A ``CanonicalId`` for ``value``."""
    return common.CanonicalId(ulid=value)


def health(message: gateway.HealthResponse) -> GatewayHealth:
    """``HealthResponse`` → :class:`GatewayHealth`."""
    return GatewayHealth(
        service=text(message.service),
        status=text(message.status),
        version=text(message.version),
        git_hash=text(message.git_hash),
        build_profile=text(message.build_profile),
        uptime_seconds=message.uptime_seconds,
    )


def session(message: gateway.SessionSummary) -> SessionSummary:
    """``SessionSummary`` → :class:`SessionSummary`."""
    return SessionSummary(
        session_id=ulid(message.session_id),
        session_key=text(message.session_key),
        session_label=text(message.session_label),
        created_at_ms=message.created_at_unix_ms,
        updated_at_ms=message.updated_at_unix_ms,
        last_run_id=ulid(message.last_run_id),
        archived_at_ms=message.archived_at_unix_ms,
        title=text(message.title),
        title_source=text(message.title_source),
        title_generator_version=text(message.title_generator_version),
        preview=text(message.preview),
        preview_state=text(message.preview_state),
        last_intent=text(message.last_intent),
        last_summary=text(message.last_summary),
        match_snippet=text(message.match_snippet),
        branch_state=text(message.branch_state),
        parent_session_id=ulid(message.parent_session_id),
        last_run_state=text(message.last_run_state),
    )


def resolved(message: gateway.ResolveSessionResponse) -> ResolvedSession:
    """``ResolveSessionResponse`` → :class:`ResolvedSession`."""
    if not message.HasField("session"):
        raise ProtocolError("ResolveSession answered without a session")
    return ResolvedSession(
        session=session(message.session),
        created=message.created,
        reset_applied=message.reset_applied,
    )


def cleaned(message: gateway.CleanupSessionResponse) -> CleanedSession:
    """``CleanupSessionResponse`` → :class:`CleanedSession`."""
    return CleanedSession(
        session=session(message.session) if message.HasField("session") else None,
        cleaned=message.cleaned,
        newly_archived=message.newly_archived,
        previous_session_key=text(message.previous_session_key),
        run_count=message.run_count,
    )


def abort(message: gateway.AbortRunResponse) -> AbortResult:
    """``AbortRunResponse`` → :class:`AbortResult`."""
    return AbortResult(
        run_id=ulid(message.run_id),
        cancel_requested=message.cancel_requested,
        reason=text(message.reason),
    )


def prompt(message: common.ApprovalPrompt) -> ApprovalPrompt:
    """``ApprovalPrompt`` → :class:`ApprovalPrompt`."""
    return ApprovalPrompt(
        title=text(message.title),
        risk=_RISK.get(message.risk_level, RiskLevel.UNSPECIFIED),
        subject_id=text(message.subject_id),
        summary=text(message.summary),
        options=tuple(
            ApprovalOption(
                option_id=text(option.option_id),
                label=text(option.label),
                description=text(option.description),
                default_selected=option.default_selected,
                scope=_SCOPE.get(option.decision_scope, DecisionScope.UNSPECIFIED),
                timebox_ttl_ms=option.timebox_ttl_ms,
            )
            for option in message.options
        ),
        timeout_seconds=message.timeout_seconds,
        details_json=json_text(message.details_json),
        policy_explanation=text(message.policy_explanation),
    )


def approval(message: gateway.ApprovalRecord) -> Approval:
    """``ApprovalRecord`` → :class:`Approval`."""
    policy = message.policy_snapshot
    return Approval(
        approval_id=ulid(message.approval_id),
        session_id=ulid(message.session_id),
        run_id=ulid(message.run_id),
        principal=text(message.principal),
        device_id=text(message.device_id),
        channel=text(message.channel),
        requested_at_ms=message.requested_at_unix_ms,
        resolved_at_ms=message.resolved_at_unix_ms,
        subject_type=_SUBJECT.get(message.subject_type, SubjectType.UNSPECIFIED),
        subject_id=text(message.subject_id),
        request_summary=text(message.request_summary),
        decision=_DECISION.get(message.decision, ApprovalDecision.ERROR),
        scope=_SCOPE.get(message.decision_scope, DecisionScope.UNSPECIFIED),
        policy_id=text(policy.policy_id),
        policy_hash=text(policy.policy_hash),
        policy_summary=text(policy.evaluation_summary),
        prompt=prompt(message.prompt),
        decision_reason=text(message.decision_reason),
        scope_ttl_ms=message.decision_scope_ttl_ms,
    )


def run_event(message: common.RunStreamEvent) -> RunEvent | None:
    """One ``RunStreamEvent`` → a run event; None for kinds RunStream never sends."""
    run_id = ulid(message.run_id)
    body = message.WhichOneof("body")
    if body == "status":
        return StatusEvent(
            run_id=run_id,
            status=_STATUS.get(message.status.kind, RunStatus.UNSPECIFIED),
            message=text(message.status.message),
        )
    if body == "model_token":
        return TokenEvent(
            run_id=run_id,
            text=text(message.model_token.token),
            is_final=message.model_token.is_final,
        )
    if body == "tool_proposal":
        proposal = message.tool_proposal
        return ToolProposalEvent(
            run_id=run_id,
            proposal_id=ulid(proposal.proposal_id),
            tool_name=text(proposal.tool_name),
            input_json=json_text(proposal.input_json),
            approval_required=proposal.approval_required,
        )
    if body == "tool_approval_request":
        request = message.tool_approval_request
        return ApprovalRequestEvent(
            run_id=run_id,
            proposal_id=ulid(request.proposal_id),
            approval_id=ulid(request.approval_id),
            tool_name=text(request.tool_name),
            input_json=json_text(request.input_json),
            request_summary=text(request.request_summary),
            prompt=prompt(request.prompt),
        )
    if body == "tool_approval_response":
        response = message.tool_approval_response
        return ApprovalResponseEvent(
            run_id=run_id,
            proposal_id=ulid(response.proposal_id),
            approval_id=ulid(response.approval_id),
            approved=response.approved,
            reason=text(response.reason),
            scope=_SCOPE.get(response.decision_scope, DecisionScope.UNSPECIFIED),
            scope_ttl_ms=response.decision_scope_ttl_ms,
        )
    if body == "tool_decision":
        decision = message.tool_decision
        return ToolDecisionEvent(
            run_id=run_id,
            proposal_id=ulid(decision.proposal_id),
            allowed=decision.kind == common.ToolDecision.DECISION_KIND_ALLOW,
            reason=text(decision.reason),
            approval_required=decision.approval_required,
            policy_enforced=decision.policy_enforced,
        )
    if body == "tool_result":
        result = message.tool_result
        return ToolResultEvent(
            run_id=run_id,
            proposal_id=ulid(result.proposal_id),
            success=result.success,
            output_json=json_text(result.output_json),
            error=text(result.error),
        )
    if body == "tool_attestation":
        attestation = message.tool_attestation
        return ToolAttestationEvent(
            run_id=run_id,
            proposal_id=ulid(attestation.proposal_id),
            attestation_id=ulid(attestation.attestation_id),
            execution_sha256=text(attestation.execution_sha256),
            executed_at_ms=attestation.executed_at_unix_ms,
            timed_out=attestation.timed_out,
            executor=text(attestation.executor),
        )
    return None


def approval_response(
    request: ApprovalRequestEvent, answer: ApprovalAnswer
) -> common.ToolApprovalResponse:
    """The ``ToolApprovalResponse`` that answers ``request``."""
    return common.ToolApprovalResponse(
        proposal_id=canonical(request.proposal_id),
        approved=answer.approved,
        reason=answer.reason,
        approval_id=canonical(request.approval_id),
        decision_scope=SCOPE_TO_PROTO[answer.scope],
        decision_scope_ttl_ms=answer.ttl_ms,
    )
