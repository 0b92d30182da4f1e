"""Our .proto files match palyrad's wire contract field for field.

The expected tables are written from the contract, independently of the
.proto text; a wrong number, type, package or enum value fails here.  The
generated modules must also be fresh.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from palyra_tui.client.grpc._generated.palyra.v1 import browser_pb2, common_pb2, gateway_pb2

ROOT = Path(__file__).resolve().parents[2]
C = "palyra.common.v1."
G = "palyra.gateway.v1."
ID = C + "CanonicalId"

_SCALARS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_INT32: "int32",
}

MESSAGES: dict[str, dict[str, tuple[int, str]]] = {
    C + "CanonicalId": {"ulid": (1, "string")},
    C + "ReplayProtection": {
        "nonce": (1, "string"),
        "timestamp_unix_ms": (2, "int64"),
        "signature": (3, "string"),
    },
    C + "EnvelopeOrigin": {
        "type": (1, C + "EnvelopeOrigin.OriginType"),
        "channel": (2, "string"),
        "conversation_id": (3, "string"),
        "sender_display": (11, "string"),
        "sender_handle": (4, "string"),
        "sender_verified": (5, "bool"),
    },
    C + "MessageAttachment": {
        "kind": (1, C + "MessageAttachment.AttachmentKind"),
        "artifact_id": (2, ID),
        "size_bytes": (3, "uint64"),
        "attachment_id": (4, "string"),
        "filename": (5, "string"),
        "declared_content_type": (6, "string"),
        "source_url": (7, "string"),
        "content_hash": (8, "string"),
        "origin": (9, "string"),
        "policy_context": (10, "string"),
        "inline_bytes": (11, "bytes"),
        "upload_requested": (12, "bool"),
        "width_px": (13, "uint32"),
        "height_px": (14, "uint32"),
    },
    C + "MessageContent": {
        "text": (1, "string"),
        "attachments": (2, "repeated " + C + "MessageAttachment"),
    },
    C + "SecurityContext": {
        "trust": (1, C + "SecurityContext.TrustLevel"),
        "labels": (2, "repeated string"),
        "provenance_url": (3, "string"),
        "provenance_hash": (4, "string"),
        "replay": (5, C + "ReplayProtection"),
    },
    C + "MessageEnvelope": {
        "v": (1, "uint32"),
        "envelope_id": (2, ID),
        "timestamp_unix_ms": (3, "int64"),
        "origin": (4, C + "EnvelopeOrigin"),
        "content": (5, C + "MessageContent"),
        "security": (6, C + "SecurityContext"),
        "max_payload_bytes": (7, "uint64"),
    },
    C + "JournalEvent": {
        "v": (1, "uint32"),
        "event_id": (2, ID),
        "session_id": (3, ID),
        "run_id": (4, ID),
        "kind": (5, C + "JournalEvent.EventKind"),
        "actor": (6, C + "JournalEvent.EventActor"),
        "timestamp_unix_ms": (7, "int64"),
        "payload_json": (8, "bytes"),
        "hash": (9, "string"),
        "prev_hash": (10, "string"),
    },
    C + "ToolProposal": {
        "proposal_id": (1, ID),
        "tool_name": (2, "string"),
        "input_json": (3, "bytes"),
        "approval_required": (4, "bool"),
    },
    C + "ToolDecision": {
        "proposal_id": (1, ID),
        "kind": (2, C + "ToolDecision.DecisionKind"),
        "reason": (3, "string"),
        "approval_required": (4, "bool"),
        "policy_enforced": (5, "bool"),
    },
    C + "ApprovalOption": {
        "option_id": (1, "string"),
        "label": (2, "string"),
        "description": (3, "string"),
        "default_selected": (4, "bool"),
        "decision_scope": (5, C + "ApprovalDecisionScope"),
        "timebox_ttl_ms": (6, "int64"),
    },
    C + "ApprovalPrompt": {
        "title": (1, "string"),
        "risk_level": (2, C + "ApprovalRiskLevel"),
        "subject_id": (3, "string"),
        "summary": (4, "string"),
        "options": (5, "repeated " + C + "ApprovalOption"),
        "timeout_seconds": (6, "uint32"),
        "details_json": (7, "bytes"),
        "policy_explanation": (8, "string"),
    },
    C + "ToolApprovalRequest": {
        "proposal_id": (1, ID),
        "tool_name": (2, "string"),
        "input_json": (3, "bytes"),
        "approval_required": (4, "bool"),
        "approval_id": (11, ID),
        "prompt": (12, C + "ApprovalPrompt"),
        "request_summary": (13, "string"),
    },
    C + "ToolApprovalResponse": {
        "proposal_id": (1, ID),
        "approved": (2, "bool"),
        "reason": (3, "string"),
        "approval_id": (11, ID),
        "decision_scope": (12, C + "ApprovalDecisionScope"),
        "decision_scope_ttl_ms": (13, "int64"),
    },
    C + "ToolResult": {
        "proposal_id": (1, ID),
        "success": (2, "bool"),
        "output_json": (3, "bytes"),
        "error": (4, "string"),
    },
    C + "ToolAttestation": {
        "proposal_id": (1, ID),
        "attestation_id": (2, ID),
        "execution_sha256": (3, "string"),
        "executed_at_unix_ms": (4, "int64"),
        "timed_out": (5, "bool"),
        "executor": (6, "string"),
    },
    C + "A2uiUpdate": {"v": (1, "uint32"), "surface": (2, "string"), "patch_json": (3, "bytes")},
    C + "RunStreamRequest": {
        "v": (1, "uint32"),
        "session_id": (2, ID),
        "run_id": (3, ID),
        "input": (4, C + "MessageEnvelope"),
        "allow_sensitive_tools": (5, "bool"),
        "session_key": (6, "string"),
        "session_label": (7, "string"),
        "reset_session": (8, "bool"),
        "require_existing": (9, "bool"),
        "tool_approval_response": (10, C + "ToolApprovalResponse"),
        "origin_kind": (11, "string"),
        "origin_run_id": (12, ID),
        "parameter_delta_json": (13, "bytes"),
        "queued_input_id": (14, ID),
    },
    C + "ModelToken": {"token": (1, "string"), "is_final": (2, "bool")},
    C + "StreamStatus": {"kind": (1, C + "StreamStatus.StatusKind"), "message": (2, "string")},
    C + "RunStreamEvent": {
        "v": (1, "uint32"),
        "run_id": (2, ID),
        "model_token": (3, C + "ModelToken"),
        "tool_proposal": (4, C + "ToolProposal"),
        "tool_result": (5, C + "ToolResult"),
        "a2ui_update": (6, C + "A2uiUpdate"),
        "status": (7, C + "StreamStatus"),
        "journal_event": (8, C + "JournalEvent"),
        "tool_decision": (9, C + "ToolDecision"),
        "tool_attestation": (10, C + "ToolAttestation"),
        "tool_approval_request": (11, C + "ToolApprovalRequest"),
        "tool_approval_response": (12, C + "ToolApprovalResponse"),
    },
    G + "HealthRequest": {"v": (1, "uint32")},
    G + "HealthResponse": {
        "v": (1, "uint32"),
        "service": (2, "string"),
        "status": (3, "string"),
        "version": (4, "string"),
        "git_hash": (5, "string"),
        "build_profile": (6, "string"),
        "uptime_seconds": (7, "uint64"),
    },
    G + "AbortRunRequest": {"v": (1, "uint32"), "run_id": (2, ID), "reason": (3, "string")},
    G + "AbortRunResponse": {
        "v": (1, "uint32"),
        "run_id": (2, ID),
        "cancel_requested": (3, "bool"),
        "reason": (4, "string"),
    },
    G + "SessionSummary": {
        "session_id": (1, ID),
        "session_key": (2, "string"),
        "session_label": (3, "string"),
        "created_at_unix_ms": (4, "int64"),
        "updated_at_unix_ms": (5, "int64"),
        "last_run_id": (6, ID),
        "archived_at_unix_ms": (7, "int64"),
        "title": (8, "string"),
        "title_source": (9, "string"),
        "title_generator_version": (10, "string"),
        "preview": (11, "string"),
        "preview_state": (12, "string"),
        "last_intent": (13, "string"),
        "last_summary": (14, "string"),
        "match_snippet": (15, "string"),
        "branch_state": (16, "string"),
        "parent_session_id": (17, ID),
        "last_run_state": (18, "string"),
    },
    G + "ListSessionsRequest": {
        "v": (1, "uint32"),
        "after_session_key": (2, "string"),
        "limit": (3, "uint32"),
        "include_archived": (4, "bool"),
        "q": (5, "string"),
    },
    G + "ListSessionsResponse": {
        "v": (1, "uint32"),
        "sessions": (2, "repeated " + G + "SessionSummary"),
        "next_after_session_key": (3, "string"),
    },
    G + "ResolveSessionRequest": {
        "v": (1, "uint32"),
        "session_id": (2, ID),
        "session_key": (3, "string"),
        "session_label": (4, "string"),
        "require_existing": (5, "bool"),
        "reset_session": (6, "bool"),
    },
    G + "ResolveSessionResponse": {
        "v": (1, "uint32"),
        "session": (2, G + "SessionSummary"),
        "created": (3, "bool"),
        "reset_applied": (4, "bool"),
    },
    G + "CleanupSessionRequest": {
        "v": (1, "uint32"),
        "session_id": (2, ID),
        "session_key": (3, "string"),
    },
    G + "CleanupSessionResponse": {
        "v": (1, "uint32"),
        "session": (2, G + "SessionSummary"),
        "cleaned": (3, "bool"),
        "newly_archived": (4, "bool"),
        "previous_session_key": (5, "string"),
        "run_count": (6, "uint32"),
    },
    G + "ApprovalPolicySnapshot": {
        "policy_id": (1, "string"),
        "policy_hash": (2, "string"),
        "evaluation_summary": (3, "string"),
    },
    G + "ApprovalRecord": {
        "v": (1, "uint32"),
        "approval_id": (2, ID),
        "session_id": (3, ID),
        "run_id": (4, ID),
        "principal": (5, "string"),
        "device_id": (6, "string"),
        "channel": (7, "string"),
        "requested_at_unix_ms": (8, "int64"),
        "resolved_at_unix_ms": (9, "int64"),
        "subject_type": (10, G + "ApprovalSubjectType"),
        "subject_id": (11, "string"),
        "request_summary": (12, "string"),
        "decision": (13, G + "ApprovalDecision"),
        "decision_scope": (14, C + "ApprovalDecisionScope"),
        "policy_snapshot": (15, G + "ApprovalPolicySnapshot"),
        "prompt": (16, C + "ApprovalPrompt"),
        "decision_reason": (17, "string"),
        "decision_scope_ttl_ms": (18, "int64"),
    },
    G + "ListApprovalsRequest": {
        "v": (1, "uint32"),
        "after_approval_ulid": (2, "string"),
        "limit": (3, "uint32"),
        "since_unix_ms": (4, "int64"),
        "until_unix_ms": (5, "int64"),
        "subject_id": (6, "string"),
        "principal": (7, "string"),
        "decision": (8, G + "ApprovalDecision"),
        "subject_type": (9, G + "ApprovalSubjectType"),
    },
    G + "ListApprovalsResponse": {
        "v": (1, "uint32"),
        "approvals": (2, "repeated " + G + "ApprovalRecord"),
        "next_after_approval_ulid": (3, "string"),
    },
    G + "GetApprovalRequest": {"v": (1, "uint32"), "approval_id": (2, ID)},
    G + "GetApprovalResponse": {"v": (1, "uint32"), "approval": (2, G + "ApprovalRecord")},
    "palyra.browser.v1.BrowserHealthRequest": {"v": (1, "uint32")},
    "palyra.browser.v1.BrowserHealthResponse": {
        "v": (1, "uint32"),
        "status": (2, "string"),
        "uptime_seconds": (3, "uint64"),
        "active_sessions": (4, "uint32"),
    },
}

ENUMS: dict[str, dict[str, int]] = {
    C + "EnvelopeOrigin.OriginType": {
        "ORIGIN_TYPE_UNSPECIFIED": 0,
        "ORIGIN_TYPE_CHANNEL": 1,
        "ORIGIN_TYPE_WEB": 2,
        "ORIGIN_TYPE_CLI": 3,
        "ORIGIN_TYPE_NODE": 4,
        "ORIGIN_TYPE_SYSTEM": 5,
    },
    C + "MessageAttachment.AttachmentKind": {
        "ATTACHMENT_KIND_UNSPECIFIED": 0,
        "ATTACHMENT_KIND_IMAGE": 1,
        "ATTACHMENT_KIND_FILE": 2,
        "ATTACHMENT_KIND_AUDIO": 3,
        "ATTACHMENT_KIND_VIDEO": 4,
    },
    C + "SecurityContext.TrustLevel": {
        "TRUST_LEVEL_UNTRUSTED": 0,
        "TRUST_LEVEL_USER_TRUSTED": 1,
        "TRUST_LEVEL_SYSTEM": 2,
    },
    C + "JournalEvent.EventKind": {
        "EVENT_KIND_UNSPECIFIED": 0,
        "EVENT_KIND_MESSAGE_RECEIVED": 1,
        "EVENT_KIND_MODEL_TOKEN": 2,
        "EVENT_KIND_TOOL_PROPOSED": 3,
        "EVENT_KIND_TOOL_EXECUTED": 4,
        "EVENT_KIND_A2UI_UPDATED": 5,
        "EVENT_KIND_RUN_COMPLETED": 6,
        "EVENT_KIND_RUN_FAILED": 7,
    },
    C + "JournalEvent.EventActor": {
        "EVENT_ACTOR_UNSPECIFIED": 0,
        "EVENT_ACTOR_USER": 1,
        "EVENT_ACTOR_AGENT": 2,
        "EVENT_ACTOR_SYSTEM": 3,
        "EVENT_ACTOR_PLUGIN": 4,
    },
    C + "ToolDecision.DecisionKind": {
        "DECISION_KIND_UNSPECIFIED": 0,
        "DECISION_KIND_ALLOW": 1,
        "DECISION_KIND_DENY": 2,
    },
    C + "ApprovalRiskLevel": {
        "APPROVAL_RISK_LEVEL_UNSPECIFIED": 0,
        "APPROVAL_RISK_LEVEL_LOW": 1,
        "APPROVAL_RISK_LEVEL_MEDIUM": 2,
        "APPROVAL_RISK_LEVEL_HIGH": 3,
        "APPROVAL_RISK_LEVEL_CRITICAL": 4,
    },
    C + "ApprovalDecisionScope": {
        "APPROVAL_DECISION_SCOPE_UNSPECIFIED": 0,
        "APPROVAL_DECISION_SCOPE_ONCE": 1,
        "APPROVAL_DECISION_SCOPE_SESSION": 2,
        "APPROVAL_DECISION_SCOPE_TIMEBOXED": 3,
    },
    C + "StreamStatus.StatusKind": {
        "STATUS_KIND_UNSPECIFIED": 0,
        "STATUS_KIND_ACCEPTED": 1,
        "STATUS_KIND_IN_PROGRESS": 2,
        "STATUS_KIND_DONE": 3,
        "STATUS_KIND_FAILED": 4,
    },
    G + "ApprovalSubjectType": {
        "APPROVAL_SUBJECT_TYPE_UNSPECIFIED": 0,
        "APPROVAL_SUBJECT_TYPE_TOOL": 1,
        "APPROVAL_SUBJECT_TYPE_CHANNEL_SEND": 2,
        "APPROVAL_SUBJECT_TYPE_SECRET_ACCESS": 3,
        "APPROVAL_SUBJECT_TYPE_BROWSER_ACTION": 4,
        "APPROVAL_SUBJECT_TYPE_NODE_CAPABILITY": 5,
        "APPROVAL_SUBJECT_TYPE_DEVICE_PAIRING": 6,
    },
    G + "ApprovalDecision": {
        "APPROVAL_DECISION_UNSPECIFIED": 0,
        "APPROVAL_DECISION_ALLOW": 1,
        "APPROVAL_DECISION_DENY": 2,
        "APPROVAL_DECISION_TIMEOUT": 3,
        "APPROVAL_DECISION_ERROR": 4,
    },
}

SERVICES = {
    G + "GatewayService": {
        "GetHealth": (G + "HealthRequest", G + "HealthResponse", False, False),
        "RunStream": (C + "RunStreamRequest", C + "RunStreamEvent", True, True),
        "AbortRun": (G + "AbortRunRequest", G + "AbortRunResponse", False, False),
        "ListSessions": (G + "ListSessionsRequest", G + "ListSessionsResponse", False, False),
        "ResolveSession": (G + "ResolveSessionRequest", G + "ResolveSessionResponse", False, False),
        "CleanupSession": (G + "CleanupSessionRequest", G + "CleanupSessionResponse", False, False),
    },
    G + "ApprovalsService": {
        "ListApprovals": (G + "ListApprovalsRequest", G + "ListApprovalsResponse", False, False),
        "GetApproval": (G + "GetApprovalRequest", G + "GetApprovalResponse", False, False),
    },
    "palyra.browser.v1.BrowserService": {
        "Health": (
            "palyra.browser.v1.BrowserHealthRequest",
            "palyra.browser.v1.BrowserHealthResponse",
            False,
            False,
        ),
    },
}

_FILES = (common_pb2.DESCRIPTOR, gateway_pb2.DESCRIPTOR, browser_pb2.DESCRIPTOR)


def _messages() -> dict[str, Descriptor]:
    found: dict[str, Descriptor] = {}
    for file in _FILES:
        for message in file.message_types_by_name.values():
            found[message.full_name] = message
    return found


def _enums() -> dict[str, EnumDescriptor]:
    found: dict[str, EnumDescriptor] = {}
    for file in _FILES:
        for enum in file.enum_types_by_name.values():
            found[enum.full_name] = enum
        for message in file.message_types_by_name.values():
            for enum in message.enum_types:
                found[enum.full_name] = enum
    return found


def _type(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        name = field.message_type.full_name
    elif field.enum_type is not None:
        name = field.enum_type.full_name
    else:
        name = _SCALARS[field.type]
    return f"repeated {name}" if field.is_repeated else name


def test_every_declared_message_is_in_the_contract() -> None:
    assert set(_messages()) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_fields_match_the_contract(name: str) -> None:
    message = _messages()[name]
    actual = {field.name: (field.number, _type(field)) for field in message.fields}
    assert actual == MESSAGES[name]


def test_run_stream_event_body_is_one_oneof() -> None:
    event = _messages()[C + "RunStreamEvent"]
    (body,) = event.oneofs
    assert body.name == "body"
    assert {field.number for field in body.fields} == set(range(3, 13))


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enum_values_match_the_contract(name: str) -> None:
    enum = _enums()[name]
    assert {value.name: value.number for value in enum.values} == ENUMS[name]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_services_match_the_contract(name: str) -> None:
    services = {s.full_name: s for f in _FILES for s in f.services_by_name.values()}
    service = services[name]
    actual = {
        method.name: (
            method.input_type.full_name,
            method.output_type.full_name,
            method.client_streaming,
            method.server_streaming,
        )
        for method in service.methods
    }
    assert actual == SERVICES[name]


def test_common_proto_is_imported_as_palyrad_does() -> None:
    assert gateway_pb2.DESCRIPTOR.dependencies[0].name == "palyra/v1/common.proto"


def test_generated_modules_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "proto" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
