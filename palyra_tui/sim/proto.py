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
SUBJECT_NAMES = {
    gateway.APPROVAL_SUBJECT_TYPE_TOOL: "tool",
    gateway.APPROVAL_SUBJECT_TYPE_CHANNEL_SEND: "channel_send",
    gateway.APPROVAL_SUBJECT_TYPE_SECRET_ACCESS: "secret_access",
    gateway.APPROVAL_SUBJECT_TYPE_BROWSER_ACTION: "browser_action",
    gateway.APPROVAL_SUBJECT_TYPE_NODE_CAPABILITY: "node_capability",
    gateway.APPROVAL_SUBJECT_TYPE_DEVICE_PAIRING: "device_pairing",
}
POLICY_ID = "sim.tool_approval"
POLICY_EXPLANATION = "tools that change the system or reach the network need an operator's approval"


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
        title_source="label" if record.label else "first_message",
        preview=record.preview,
        preview_state="computed" if record.preview else "missing",
        branch_state="root",
        last_run_state=record.last_run_state,
    )


def options() -> list[common.ApprovalOption]:
    """The three choices palyrad offers for a tool approval."""
    return [
        common.ApprovalOption(
            option_id="allow_once",
            label="Allow once",
            description="Allow this call only.",
            default_selected=True,
            decision_scope=common.APPROVAL_DECISION_SCOPE_ONCE,
        ),
        common.ApprovalOption(
            option_id="allow_session",
            label="Allow for this session",
            description="Allow this tool for the rest of the session.",
            decision_scope=common.APPROVAL_DECISION_SCOPE_SESSION,
        ),
        common.ApprovalOption(
            option_id="deny_once",
            label="Deny",
            description="Deny this call.",
            decision_scope=common.APPROVAL_DECISION_SCOPE_ONCE,
        ),
    ]


def prompt(record: SimApproval) -> common.ApprovalPrompt:
    """The approval prompt of a record."""
    return common.ApprovalPrompt(
        title=f"Approve {record.tool_name}",
        risk_level=RISK.get(record.risk, common.APPROVAL_RISK_LEVEL_UNSPECIFIED),
        subject_id=record.subject_id,
        summary=record.request_summary,
        options=options(),
        timeout_seconds=record.timeout_seconds,
        details_json=record.details_json.encode(),
        policy_explanation=POLICY_EXPLANATION,
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
        subject_type=gateway.APPROVAL_SUBJECT_TYPE_TOOL,
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
        "subject_type": "tool",
        "subject_id": record.subject_id,
        "request_summary": record.request_summary,
        "policy_snapshot": {
            "policy_id": POLICY_ID,
            "policy_hash": "sim",
            "evaluation_summary": "approval required",
        },
        "prompt": {
            "title": f"Approve {record.tool_name}",
            "risk_level": record.risk,
            "subject_id": record.subject_id,
            "summary": record.request_summary,
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
            "policy_explanation": POLICY_EXPLANATION,
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
    """The ``details_json`` of a tool approval prompt."""
    return json.dumps(
        {"tool_name": tool_name, "subject_id": subject_id, "input": json.loads(input_json)}
    )
