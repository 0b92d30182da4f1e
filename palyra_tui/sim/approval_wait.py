"""How the reference gateway waits for an approval answer on a RunStream, as palyrad does.

The client's side of the stream is read by a task of its own (:class:`Requests`).
While an approval waits, palyrad reads that side until an answer arrives, the
client half-closes (denied: no interactive approval channel) or 60 s pass
(denied: timeout).  An answer it cannot take (a proposal id that is not a ULID,
a mismatch, a new prompt) does not end the stream: the approval resolves as an
error, denied with ``approval_response_error: …``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.sim import proto
from palyra_tui.sim.store import SimApproval, SimRun, SimSession, valid_ulid

NO_CHANNEL = "approval required but no interactive approval channel is available for this run"
TIMEOUT_REASON = "approval_response_timeout"
REFUSED_PREFIX = "approval_response_error: "


class Requests:
    """The client's side of the stream, read by a task; ``None`` marks the half-close."""

    def __init__(self, requests: AsyncIterator[common.RunStreamRequest]) -> None:
        self._queue: asyncio.Queue[common.RunStreamRequest | None] = asyncio.Queue()
        self.closed = False
        self._task = asyncio.create_task(self._pump(requests))

    async def _pump(self, requests: AsyncIterator[common.RunStreamRequest]) -> None:
        try:
            async for request in requests:
                self._queue.put_nowait(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            pass
        finally:
            self._queue.put_nowait(None)

    async def get(self, timeout: float | None = None) -> common.RunStreamRequest | None:
        """The next request, or None once the client half-closed (raises TimeoutError)."""
        if self.closed:
            return None
        if timeout is None:
            item = await self._queue.get()
        else:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        if item is None:
            self.closed = True
        return item

    def stop(self) -> None:
        """Stop reading."""
        self._task.cancel()


async def wait_for_answer(
    inbox: Requests,
    session: SimSession,
    run: SimRun,
    proposal_id: str,
    record: SimApproval,
    timeout: float,
) -> tuple[bool, str, str, int]:
    """``(approved, scope, reason, ttl_ms)`` from the client, a timeout or a half-close."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False, "once", TIMEOUT_REASON, 0
        try:
            request = await inbox.get(remaining)
        except TimeoutError:
            return False, "once", TIMEOUT_REASON, 0
        if request is None:
            return False, "once", NO_CHANNEL, 0
        if request.v != 1:
            return _refused("unsupported protocol major version")
        ids = _answer_ids_problem(request, session.session_id, run.run_id)
        if ids:
            return _refused(ids)
        if request.HasField("input"):
            return _refused("received prompt payload while waiting for tool approval response")
        if not request.HasField("tool_approval_response"):
            continue
        answer = request.tool_approval_response
        problem = _answer_problem(answer, proposal_id, record.approval_id)
        if problem:
            return _refused(problem)
        scope = proto.SCOPE_NAMES.get(answer.decision_scope, "once")
        default = "approved_by_client" if answer.approved else "denied_by_client"
        ttl = max(0, answer.decision_scope_ttl_ms)
        return answer.approved, scope, answer.reason or default, ttl


def _refused(problem: str) -> tuple[bool, str, str, int]:
    return False, "once", REFUSED_PREFIX + problem, 0


def _canonical_problem(value: str, field_name: str) -> str:
    if not value.strip():
        return f"{field_name} is required"
    if not valid_ulid(value):
        return f"{field_name} must be a canonical ULID"
    return ""


def _answer_ids_problem(request: common.RunStreamRequest, session_id: str, run_id: str) -> str:
    """What palyrad says about the ids of a message sent while it awaits an answer."""
    for field_name, value, expected in (
        ("session_id", request.session_id.ulid, session_id),
        ("run_id", request.run_id.ulid, run_id),
    ):
        problem = _canonical_problem(value, field_name)
        if problem:
            return problem
        if value != expected:
            return f"run stream cannot switch {field_name} while awaiting tool approval response"
    return ""


def _answer_problem(answer: common.ToolApprovalResponse, proposal_id: str, approval_id: str) -> str:
    """Why palyrad would not take ``answer`` for this pending approval ("" when it would)."""
    problem = _canonical_problem(answer.proposal_id.ulid, "tool_approval_response.proposal_id")
    if problem:
        return problem
    if answer.proposal_id.ulid != proposal_id:
        return "tool approval response proposal_id does not match pending tool proposal"
    given = answer.approval_id.ulid.strip()
    if given and not valid_ulid(given):
        return "tool_approval_response.approval_id must be a canonical ULID"
    if given and given != approval_id:
        return "tool approval response approval_id does not match pending approval record"
    return ""
