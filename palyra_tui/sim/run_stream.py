"""``RunStream`` on the reference gateway, step by step as palyrad runs it.

ACCEPTED, IN_PROGRESS, then per turn the agent's tokens (chunks of at most 16
words, ``is_final`` on the last of each text part) or, for a tool call:
proposal, approval request (answered on this stream within the timeout, or
denied), approval response, decision, result and attestation, then the agent's
answer in a second model turn.  After the turn the gateway reads the client
again, and only then: another ``input`` starts another turn, a half-close ends
the run with DONE.  An abort is noticed within 100 ms, except
while waiting for an approval, and ends the run with FAILED "cancelled by
request".
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.models.ids import new_ulid
from palyra_tui.sim import agent, proto
from palyra_tui.sim.approval_wait import (
    NO_CHANNEL,
    REFUSED_PREFIX,
    TIMEOUT_REASON,
    Requests,
    wait_for_answer,
)
from palyra_tui.sim.grpc_abort import Context, abort, check_version, resolve_or_abort
from palyra_tui.sim.logs import JsonLog, now_ms
from palyra_tui.sim.store import Identity, SimApproval, SimRun, SimSession, Store, valid_ulid
from palyra_tui.sim.tape import RunWriter

Authorize = Callable[[Context, str], Awaitable[Identity]]

RUNLOOP_DISABLED = (
    "orchestrator run loop v1 is disabled; set PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true"
)
CANCELLED = "cancelled by request"
CANCEL_POLL = 0.1
POLICY_DENIAL = "sensitive action blocked by default; explicit user approval required"


class _Cancelled(Exception):
    """The run's cancel flag was seen."""


class RunStreamHandler:
    """Serves ``GatewayService/RunStream``."""

    def __init__(self, store: Store, log: JsonLog, authorize: Authorize) -> None:
        self.store = store
        self.log = log
        self.authorize = authorize

    async def handle(
        self, requests: AsyncIterator[common.RunStreamRequest], context: Context
    ) -> None:
        """One RunStream call."""
        settings = self.store.settings
        if not settings.runloop_enabled:
            await abort(context, grpc.StatusCode.FAILED_PRECONDITION, RUNLOOP_DISABLED)
        identity = await self.authorize(context, "RunStream")
        self.store.count("run_stream_requests")
        inbox = Requests(requests)
        try:
            await self._conversation(identity, inbox, context)
        finally:
            inbox.stop()

    async def _conversation(self, identity: Identity, inbox: Requests, context: Context) -> None:
        first = await inbox.get()
        if first is None:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "run stream closed before input")
        await check_version(first.v, context)
        session_id, run_id = first.session_id.ulid, first.run_id.ulid
        if not valid_ulid(session_id) or not valid_ulid(run_id):
            await abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "session_id and run_id must be ULIDs"
            )
        if run_id in self.store.runs:
            await abort(
                context,
                grpc.StatusCode.ALREADY_EXISTS,
                f"orchestrator run already exists: {run_id}",
            )
        session, _, _ = await resolve_or_abort(
            context,
            lambda: self.store.resolve_session(
                identity,
                session_id=session_id,
                session_key=first.session_key,
                label=first.session_label,
                require_existing=first.require_existing,
                reset=first.reset_session,
            ),
        )
        run = SimRun(run_id=run_id, session_id=session.session_id)
        self.store.runs[run_id] = run
        self.store.count("orchestrator_runs_started")
        session.run_count += 1
        session.last_run_id = run_id
        run_writer = RunWriter(context, run_id, self.store, session.session_id)
        await run_writer.status(
            common.StreamStatus.STATUS_KIND_ACCEPTED,
            f"accepted session={session.session_id} principal={identity.principal}",
        )
        self._set_state(session, run, "in_progress")
        await run_writer.status(common.StreamStatus.STATUS_KIND_IN_PROGRESS, "streaming")
        text = first.input.content.text
        while True:
            if text.strip().lower() in ("/cancel", "cancel"):
                run.cancel_requested = True
            try:
                await self._turn(identity, session, run, run_writer, inbox, context, text)
            except _Cancelled:
                self._set_state(session, run, "cancelled")
                self.store.count("orchestrator_runs_cancelled")
                await run_writer.status(common.StreamStatus.STATUS_KIND_FAILED, CANCELLED)
                return
            nxt = await self._next_input(inbox, session, run, context)
            if nxt is None:
                self._set_state(session, run, "done")
                self.store.count("orchestrator_runs_completed")
                await run_writer.status(common.StreamStatus.STATUS_KIND_DONE, "completed")
                return
            text = nxt

    async def _next_input(
        self, inbox: Requests, session: SimSession, run: SimRun, context: Context
    ) -> str | None:
        """Wait for another input (a new turn) or the half-close (None)."""
        while True:
            request = await inbox.get()
            if request is None:
                return None
            await _check_ids(request, session.session_id, run.run_id, context)
            if request.HasField("input"):
                return request.input.content.text

    async def _turn(
        self,
        identity: Identity,
        session: SimSession,
        run: SimRun,
        writer: RunWriter,
        inbox: Requests,
        context: Context,
        text: str,
    ) -> None:
        session.updated_ms = now_ms()
        if agent.FAILURE_TRIGGER in text.lower():
            self._set_state(session, run, "failed")
            await writer.status(
                common.StreamStatus.STATUS_KIND_FAILED, "model provider failed: simulated outage"
            )
            await abort(context, grpc.StatusCode.UNAVAILABLE, "model provider unavailable")
        calls = agent.plan_tools(text)
        if not calls:
            await self._speak(run, writer, text)
            return
        provider_ids = agent.PROVIDER_ID_TRIGGER in text.lower()
        for call in calls:
            proposal_id = agent.PROVIDER_CALL_ID if provider_ids else new_ulid()
            allowed, reason = await self._approve(
                identity, session, run, writer, inbox, call, proposal_id
            )
            await self._execute(run, writer, call, proposal_id, allowed, reason)
            if self.store.settings.tool_followup:
                await self._speak(run, writer, agent.follow_up(call, allowed, reason))

    async def _speak(self, run: SimRun, writer: RunWriter, text: str) -> None:
        chunks = agent.chunk_text(text)
        for index, chunk in enumerate(chunks):
            await self._pause(run)
            await writer.token(chunk, index == len(chunks) - 1)
        writer.replied(text)
        self.store.sessions[run.session_id].preview = text.strip()[:120]

    async def _pause(self, run: SimRun) -> None:
        """The token delay, checking the cancel flag every 100 ms."""
        remaining = self.store.settings.token_delay_s
        while True:
            if run.cancel_requested:
                raise _Cancelled
            if remaining <= 0:
                return
            step = min(CANCEL_POLL, remaining)
            await asyncio.sleep(step)
            remaining -= step

    async def _approve(
        self,
        identity: Identity,
        session: SimSession,
        run: SimRun,
        writer: RunWriter,
        inbox: Requests,
        call: agent.ToolCall,
        proposal_id: str,
    ) -> tuple[bool, str]:
        subject_id = f"tool:{call.tool_name}"
        self.store.count("tool_proposals")
        await writer.event(
            tool_proposal=common.ToolProposal(
                proposal_id=proto.ulid(proposal_id),
                tool_name=call.tool_name,
                input_json=call.input_json.encode(),
                approval_required=True,
            )
        )
        if self.store.grant_for(identity, session.session_id, subject_id):
            reason = "approved_by_cached_grant"
            await writer.event(
                tool_approval_response=common.ToolApprovalResponse(
                    proposal_id=proto.ulid(proposal_id),
                    approved=True,
                    reason=reason,
                    decision_scope=common.APPROVAL_DECISION_SCOPE_SESSION,
                )
            )
            await self._decide(writer, proposal_id, True, reason)
            return True, reason
        timeout = self.store.settings.approval_timeout_s
        record = SimApproval(
            approval_id=new_ulid(),
            session_id=session.session_id,
            run_id=run.run_id,
            owner=identity,
            requested_ms=now_ms(),
            subject_id=subject_id,
            request_summary=proto.request_summary(call.tool_name, call.input_json),
            tool_name=call.tool_name,
            input_json=call.input_json,
            risk=call.risk,
            timeout_seconds=max(1, round(timeout)),
            details_json=proto.details(call.tool_name, subject_id, call.input_json),
        )
        self.store.approvals[record.approval_id] = record
        self.store.count("approvals_tool_requested")
        self.log.info(
            "approval requested",
            run_id=run.run_id,
            proposal_id=proposal_id,
            approval_id=record.approval_id,
        )
        await writer.event(
            tool_approval_request=common.ToolApprovalRequest(
                proposal_id=proto.ulid(proposal_id),
                tool_name=call.tool_name,
                input_json=call.input_json.encode(),
                approval_required=True,
                approval_id=proto.ulid(record.approval_id),
                prompt=proto.prompt(record),
                request_summary=record.request_summary,
            )
        )
        approved, scope, reason, ttl = await wait_for_answer(
            inbox, session, run, proposal_id, record, timeout
        )
        if approved:
            decision = "allow"
        elif reason == NO_CHANNEL or reason.startswith(REFUSED_PREFIX):
            decision = "error"
        elif reason == TIMEOUT_REASON:
            decision = "timeout"
        else:
            decision = "deny"
        self.store.resolve_approval(record, decision, scope, reason, ttl)
        if approved:
            self.store.remember_grant(identity, session.session_id, subject_id, scope, ttl)
        self.log.info(
            "approval resolved",
            run_id=run.run_id,
            proposal_id=proposal_id,
            approval_id=record.approval_id,
            decision=record.decision,
        )
        await writer.event(
            tool_approval_response=common.ToolApprovalResponse(
                proposal_id=proto.ulid(proposal_id),
                approved=approved,
                reason=reason,
                approval_id=proto.ulid(record.approval_id),
                decision_scope=proto.SCOPES.get(scope, common.APPROVAL_DECISION_SCOPE_ONCE),
                decision_scope_ttl_ms=ttl,
            )
        )
        if reason.startswith(REFUSED_PREFIX):
            # palyrad's decision then gives its policy's reason, not the refusal.
            reason = POLICY_DENIAL
        await self._decide(writer, proposal_id, approved, reason)
        return approved, reason

    async def _decide(
        self, writer: RunWriter, proposal_id: str, allowed: bool, reason: str
    ) -> None:
        kind = (
            common.ToolDecision.DECISION_KIND_ALLOW
            if allowed
            else (common.ToolDecision.DECISION_KIND_DENY)
        )
        await writer.event(
            tool_decision=common.ToolDecision(
                proposal_id=proto.ulid(proposal_id),
                kind=kind,
                reason=reason,
                approval_required=True,
                policy_enforced=True,
            )
        )

    async def _execute(
        self,
        run: SimRun,
        writer: RunWriter,
        call: agent.ToolCall,
        proposal_id: str,
        allowed: bool,
        reason: str,
    ) -> None:
        await self._pause(run)
        output = agent.tool_output(call) if allowed else ""
        await writer.event(
            tool_result=common.ToolResult(
                proposal_id=proto.ulid(proposal_id),
                success=allowed,
                output_json=output.encode(),
                error="" if allowed else f"tool call denied: {reason}",
            )
        )
        await writer.event(
            tool_attestation=common.ToolAttestation(
                proposal_id=proto.ulid(proposal_id),
                attestation_id=proto.ulid(new_ulid()),
                execution_sha256=hashlib.sha256(output.encode()).hexdigest(),
                executed_at_unix_ms=now_ms(),
                timed_out=False,
                executor="palyra-tui-sim",
            )
        )

    def _set_state(self, session: SimSession, run: SimRun, state: str) -> None:
        run.state = state
        session.last_run_state = state
        session.updated_ms = now_ms()


async def _check_ids(
    request: common.RunStreamRequest, session_id: str, run_id: str, context: Context
) -> None:
    if request.session_id.ulid != session_id or request.run_id.ulid != run_id:
        await abort(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            "run stream messages must keep the same session_id and run_id",
        )


__all__ = ["RunStreamHandler"]
