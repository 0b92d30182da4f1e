"""The reference gateway's records as protobuf messages and as console JSON."""

from __future__ import annotations

import json
from typing import Any

from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc._generated.palyra.v1 import gateway_pb2 as gateway
from palyra_tui.sim.store import SimApproval, SimSession

RISK = {
    "low": common.APPROVAL_RISK_LEVEL_LOW,
    "medium": common.APPROVAL_RISK_LEVEL_MEDIUM,
    "high": common.APPROVAL_RISK_LEVEL_HIGH,
    "critical": common.APPROVAL_RISK_LEVEL_CRITICAL,
}
SCOPES = {
    "once": common.APPROVAL_DECISION_SCOPE_ONCE,
    "session": common.APPROVAL_DECISION_SCOPE_SESSION,
    "timeboxed": common.APPROVAL_DECISION_SCOPE_TIMEBOXED,
}
SCOPE_NAMES = {number: name for name, number in SCOPES.items()}
DECISIONS = {
    "allow": gateway.APPROVAL_DECISION_ALLOW,
    "deny": gateway.APPROVAL_DECISION_DENY,
    "timeout": gateway.APPROVAL_DECISION_TIMEOUT,
    "error": gateway.APPROVAL_DECISION_ERROR,
}
DECISION_NAMES = {number: name for name, number in DECISIONS.items()}
SUBJECT_NAMES: dict[gateway.ApprovalSubjectType, str] = {
    gateway.APPROVAL_SUBJECT_TYPE_TOOL: "tool",
    gateway.APPROVAL_SUBJECT_TYPE_CHANNEL_SEND: "channel_send",
    gateway.APPROVAL_SUBJECT_TYPE_SECRET_ACCESS: "secret_access",
    gateway.APPROVAL_SUBJECT_TYPE_BROWSER_ACTION: "browser_action",
    gateway.APPROVAL_SUBJECT_TYPE_NODE_CAPABILITY: "node_capability",
    gateway.APPROVAL_SUBJECT_TYPE_DEVICE_PAIRING: "device_pairing",
}
SUBJECTS = {name: number for number, name in SUBJECT_NAMES.items()}
POLICY_ID = "sim.tool_approval"
POLICY_EXPLANATION = "Sensitive tool actions are deny-by-default until explicitly approved"
SUMMARY_MAX_BYTES = 1024


def ulid(value: str) -> common.CanonicalId:
    """A ``CanonicalId``."""
    return common.CanonicalId(ulid=value)


def session(record: SimSession) -> gateway.SessionSummary:
    """A session as ``SessionSummary``."""
    return gateway.SessionSummary(
        session_id=ulid(record.session_id),
        session_key=record.session_key,
        session_label=record.label,
        created_at_unix_ms=record.created_ms,
        updated_at_unix_ms=record.updated_ms,
        last_run_id=ulid(record.last_run_id) if record.last_run_id else None,
        archived_at_unix_ms=record.archived_ms,
        title=record.title,
        title_source=record.title_source,
        preview=record.preview,
        preview_state="computed" if record.preview else "missing",
        last_summary=record.preview,
        branch_state="root",
        last_run_state=record.last_run_state,
    )


def options() -> list[common.ApprovalOption]:
    """The three choices palyrad offers for a tool approval."""
    return [
        common.ApprovalOption(
            option_id="allow_once",
            label="Allow once",
            description="Approve this single action",
            default_selected=True,
            decision_scope=common.APPROVAL_DECISION_SCOPE_ONCE,
        ),
        common.ApprovalOption(
            option_id="allow_session",
            label="Allow for session",
            description="Remember approval for this session",
            decision_scope=common.APPROVAL_DECISION_SCOPE_SESSION,
        ),
        common.ApprovalOption(
            option_id="deny_once",
            label="Deny",
            description="Reject this action",
            decision_scope=common.APPROVAL_DECISION_SCOPE_ONCE,
        ),
    ]


def prompt(record: SimApproval) -> common.ApprovalPrompt:
    """The approval prompt of a record."""
    return common.ApprovalPrompt(
        title=record.title or f"Approve {record.tool_name}",
        risk_level=RISK.get(record.risk, common.APPROVAL_RISK_LEVEL_UNSPECIFIED),
        subject_id=record.subject_id,
        summary=record.summary or prompt_summary(record.tool_name),
        options=options(),
        timeout_seconds=record.timeout_seconds,
        details_json=record.details_json.encode(),
        policy_explanation=record.policy_explanation or POLICY_EXPLANATION,
    )


def approval(record: SimApproval) -> gateway.ApprovalRecord:
    """A record as ``ApprovalRecord``; a pending one has decision UNSPECIFIED."""
    return gateway.ApprovalRecord(
        v=1,
        approval_id=ulid(record.approval_id),
        session_id=ulid(record.session_id),
        run_id=ulid(record.run_id),
        principal=record.owner.principal,
        device_id=record.owner.device_id,
        channel=record.owner.channel,
        requested_at_unix_ms=record.requested_ms,
        resolved_at_unix_ms=record.resolved_ms,
        subject_type=SUBJECTS.get(record.subject_type, gateway.APPROVAL_SUBJECT_TYPE_TOOL),
        subject_id=record.subject_id,
        request_summary=record.request_summary,
        decision=DECISIONS.get(record.decision, gateway.APPROVAL_DECISION_UNSPECIFIED),
        decision_scope=SCOPES.get(
            record.decision_scope, common.APPROVAL_DECISION_SCOPE_UNSPECIFIED
        ),
        policy_snapshot=gateway.ApprovalPolicySnapshot(
            policy_id=POLICY_ID, policy_hash="sim", evaluation_summary="approval required"
        ),
        prompt=prompt(record),
        decision_reason=record.decision_reason,
        decision_scope_ttl_ms=record.decision_scope_ttl_ms,
    )


def approval_json(record: SimApproval) -> dict[str, Any]:
    """A record as the console's JSON (a pending one has no ``decision`` key)."""
    document: dict[str, Any] = {
        "approval_id": record.approval_id,
        "session_id": record.session_id,
        "run_id": record.run_id,
        "principal": record.owner.principal,
        "device_id": record.owner.device_id,
        "requested_at_unix_ms": record.requested_ms,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "request_summary": record.request_summary,
        "policy_snapshot": {
            "policy_id": POLICY_ID,
            "policy_hash": "sim",
            "evaluation_summary": "approval required",
        },
        "prompt": {
            "title": record.title or f"Approve {record.tool_name}",
            "risk_level": record.risk,
            "subject_id": record.subject_id,
            "summary": record.summary or prompt_summary(record.tool_name),
            "options": [
                {
                    "option_id": option.option_id,
                    "label": option.label,
                    "description": option.description,
                    "default_selected": option.default_selected,
                    "decision_scope": SCOPE_NAMES[option.decision_scope],
                }
                for option in options()
            ],
            "timeout_seconds": record.timeout_seconds,
            "details_json": record.details_json,
            "policy_explanation": record.policy_explanation or POLICY_EXPLANATION,
        },
        "created_at_unix_ms": record.requested_ms,
        "updated_at_unix_ms": record.resolved_ms or record.requested_ms,
    }
    if record.owner.channel:
        document["channel"] = record.owner.channel
    if record.decision:
        document["decision"] = record.decision
        document["decision_scope"] = record.decision_scope
        document["decision_reason"] = record.decision_reason
        document["resolved_at_unix_ms"] = record.resolved_ms
        if record.decision_scope_ttl_ms:
            document["decision_scope_ttl_ms"] = record.decision_scope_ttl_ms
    return document


def details(tool_name: str, subject_id: str, input_json: str) -> str:
    """The ``details_json`` of a tool approval prompt, as palyrad builds it."""
    return _compact(
        {
            "tool_name": tool_name,
            "subject_id": subject_id,
            "skill_id": None,
            "skill_version": None,
            "input_json": json.loads(input_json),
        }
    )


def request_summary(tool_name: str, input_json: str) -> str:
    """palyrad's ``request_summary``: JSON of the call, cut at 1024 bytes with ``...``."""
    summary = _compact(
        {
            "tool_name": tool_name,
            "skill_id": None,
            "skill_version": None,
            "input_json": json.loads(input_json),
        }
    )
    encoded = summary.encode()
    if len(encoded) <= SUMMARY_MAX_BYTES:
        return summary
    return encoded[: SUMMARY_MAX_BYTES - 3].decode(errors="ignore") + "..."


def prompt_summary(tool_name: str) -> str:
    """The prompt's one-line summary."""
    return f"Tool `{tool_name}` requested explicit approval"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
