"""A run's events on the wire and in the session's tape, shaped as palyrad writes them.

palyrad's tape (what ``/console/v1/chat/sessions/{id}/transcript`` returns) has
one record per event, with JSON payloads of its own: enums as lower-case
words, ``input_json`` and ``output_json`` decoded, model tokens redacted (the
journal redacts every key named ``token``), and ``message.replied`` with the
reply text after a model turn that needs no tool result.  It keeps no copy of
what the client sent.
"""

from __future__ import annotations

import json
from typing import Any

from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.sim import proto
from palyra_tui.sim.grpc_abort import Context
from palyra_tui.sim.store import Store

REDACTED = "<redacted>"
_STATUS = {
    common.StreamStatus.STATUS_KIND_ACCEPTED: "accepted",
    common.StreamStatus.STATUS_KIND_IN_PROGRESS: "in_progress",
    common.StreamStatus.STATUS_KIND_DONE: "done",
    common.StreamStatus.STATUS_KIND_FAILED: "failed",
}


class RunWriter:
    """Writes a run's events to the stream and appends them to the tape."""

    def __init__(self, context: Context, run_id: str, store: Store, session_id: str) -> None:
        self.context = context
        self.run_id = run_id
        self.store = store
        self.session_id = session_id

    async def status(self, kind: int, message: str) -> None:
        """A ``status`` event."""
        await self.event(status=common.StreamStatus(kind=kind, message=message))  # type: ignore[arg-type]

    async def token(self, text: str, is_final: bool) -> None:
        """A ``model_token`` event."""
        await self.event(model_token=common.ModelToken(token=text, is_final=is_final))

    def replied(self, text: str) -> None:
        """The ``message.replied`` record after a model turn's final answer."""
        self.store.record(self.session_id, self.run_id, "message.replied", {"reply_text": text})

    async def event(self, **body: Any) -> None:
        """Send one event and record it."""
        ((name, value),) = body.items()
        self.store.record(self.session_id, self.run_id, name, payload(name, value))
        await self.context.write(
            common.RunStreamEvent(v=1, run_id=proto.ulid(self.run_id), **{name: value})
        )


def payload(name: str, value: Any) -> dict[str, Any]:
    """The tape payload palyrad writes for one event."""
    if name == "status":
        return {"kind": _STATUS.get(value.kind, "unspecified"), "message": value.message}
    if name == "model_token":
        return {"is_final": value.is_final, "token": REDACTED}
    if name == "tool_proposal":
        return {
            "proposal_id": value.proposal_id.ulid,
            "tool_name": value.tool_name,
            "input_json": _decoded(value.input_json),
            "approval_required": value.approval_required,
        }
    if name == "tool_approval_request":
        return {
            "proposal_id": value.proposal_id.ulid,
            "approval_id": value.approval_id.ulid,
            "tool_name": value.tool_name,
            "input_json": _decoded(value.input_json),
            "approval_required": value.approval_required,
            "request_summary": value.request_summary,
            "prompt": {
                "title": value.prompt.title,
                "subject_id": value.prompt.subject_id,
                "summary": value.prompt.summary,
                "timeout_seconds": value.prompt.timeout_seconds,
                "policy_explanation": value.prompt.policy_explanation,
                "details_json": _decoded(value.prompt.details_json),
            },
        }
    if name == "tool_approval_response":
        return {
            "proposal_id": value.proposal_id.ulid,
            "approval_id": value.approval_id.ulid,
            "approved": value.approved,
            "reason": value.reason,
            "decision_scope": proto.SCOPE_NAMES.get(value.decision_scope, "once"),
            "decision_scope_ttl_ms": value.decision_scope_ttl_ms or None,
        }
    if name == "tool_decision":
        return {
            "proposal_id": value.proposal_id.ulid,
            "kind": "allow" if value.kind == common.ToolDecision.DECISION_KIND_ALLOW else "deny",
            "reason": value.reason,
            "approval_required": value.approval_required,
            "policy_enforced": value.policy_enforced,
        }
    if name == "tool_result":
        return {
            "proposal_id": value.proposal_id.ulid,
            "success": value.success,
            "output_json": _decoded(value.output_json),
            "error": value.error,
        }
    return {
        "proposal_id": value.proposal_id.ulid,
        "attestation_id": value.attestation_id.ulid,
        "execution_sha256": value.execution_sha256,
        "executed_at_unix_ms": value.executed_at_unix_ms,
        "timed_out": value.timed_out,
        "executor": value.executor,
        "sandbox_enforcement": "none",
    }


def _decoded(data: bytes) -> Any:
    """JSON bytes as a value, or ``{"raw": text}`` when they are not JSON (as palyrad does)."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"raw": text}
