"""The gRPC client of palyrad's ``GatewayService`` and ``ApprovalsService``.

Create it on the event loop that will use it (a ``grpc.aio`` channel belongs
to one loop) and close it with :meth:`GatewayClient.close`.  Every unary call
has a deadline; a call fails fast while the gateway is down unless the caller
asks to wait for it (``wait_for_ready``), which background refreshes do.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc

from palyra_tui.client.errors import ClientError
from palyra_tui.client.grpc import convert
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc._generated.palyra.v1 import gateway_pb2 as gateway
from palyra_tui.client.grpc.channel import open_channel
from palyra_tui.client.grpc.errors import map_rpc_error
from palyra_tui.client.grpc.run_stream import RunConversation, RunStreamCall
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.models.gateway import (
    AbortResult,
    Approval,
    ApprovalDecision,
    ApprovalPage,
    CleanedSession,
    GatewayHealth,
    ResolvedSession,
    SessionPage,
    SubjectType,
)
from palyra_tui.models.ids import new_ulid

PROTOCOL_VERSION = 1
DEFAULT_DEADLINE = 5.0
APPROVALS_DEADLINE = 10.0
FIRST_EVENT_TIMEOUT = 5.0
"""Seconds a run may wait for the gateway's first event before it counts as not sent."""
IDLE_TIMEOUT = 150.0
"""Seconds without any event, while no proposal or approval is open, before a run gives
up: longer than palyrad's own budget for a model turn with its retries (120 s)."""
GATEWAY = "/palyra.gateway.v1.GatewayService/"
APPROVALS = "/palyra.gateway.v1.ApprovalsService/"

T = TypeVar("T")


class GatewayClient:
    """Typed calls to one palyrad over gRPC; protobuf types never leave this class."""

    def __init__(
        self,
        target: str,
        identity: ClientIdentity,
        *,
        deadline: float = DEFAULT_DEADLINE,
        channel: grpc.aio.Channel | None = None,
        tls: bool = False,
    ) -> None:
        """``tls``: reach ``target`` over TLS (a remote gateway's ``https`` URL)."""
        self.target = target
        self.identity = identity
        self.deadline = deadline
        self._channel = channel if channel is not None else open_channel(target, tls=tls)
        self._metadata = identity.grpc_metadata()
        ch = self._channel
        self._get_health = ch.unary_unary(
            GATEWAY + "GetHealth",
            request_serializer=gateway.HealthRequest.SerializeToString,
            response_deserializer=gateway.HealthResponse.FromString,
        )
        self._list_sessions = ch.unary_unary(
            GATEWAY + "ListSessions",
            request_serializer=gateway.ListSessionsRequest.SerializeToString,
            response_deserializer=gateway.ListSessionsResponse.FromString,
        )
        self._resolve_session = ch.unary_unary(
            GATEWAY + "ResolveSession",
            request_serializer=gateway.ResolveSessionRequest.SerializeToString,
            response_deserializer=gateway.ResolveSessionResponse.FromString,
        )
        self._cleanup_session = ch.unary_unary(
            GATEWAY + "CleanupSession",
            request_serializer=gateway.CleanupSessionRequest.SerializeToString,
            response_deserializer=gateway.CleanupSessionResponse.FromString,
        )
        self._abort_run = ch.unary_unary(
            GATEWAY + "AbortRun",
            request_serializer=gateway.AbortRunRequest.SerializeToString,
            response_deserializer=gateway.AbortRunResponse.FromString,
        )
        self._run_stream: RunStreamCall = ch.stream_stream(
            GATEWAY + "RunStream",
            request_serializer=common.RunStreamRequest.SerializeToString,
            response_deserializer=common.RunStreamEvent.FromString,
        )
        self._list_approvals = ch.unary_unary(
            APPROVALS + "ListApprovals",
            request_serializer=gateway.ListApprovalsRequest.SerializeToString,
            response_deserializer=gateway.ListApprovalsResponse.FromString,
        )
        self._get_approval = ch.unary_unary(
            APPROVALS + "GetApproval",
            request_serializer=gateway.GetApprovalRequest.SerializeToString,
            response_deserializer=gateway.GetApprovalResponse.FromString,
        )

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def get_health(self, *, wait_for_ready: bool = False) -> GatewayHealth:
        """``GetHealth``: the only call without credentials."""
        response = await self._unary(
            self._get_health(
                gateway.HealthRequest(v=PROTOCOL_VERSION),
                timeout=self.deadline,
                wait_for_ready=wait_for_ready,
            )
        )
        return convert.health(response)

    async def list_sessions(
        self,
        *,
        limit: int = 0,
        after_session_key: str = "",
        include_archived: bool = False,
        query: str = "",
        wait_for_ready: bool = False,
    ) -> SessionPage:
        """``ListSessions``: this identity's sessions (0 means the gateway's default, 100)."""
        response = await self._unary(
            self._list_sessions(
                gateway.ListSessionsRequest(
                    v=PROTOCOL_VERSION,
                    after_session_key=after_session_key,
                    limit=limit,
                    include_archived=include_archived,
                    q=query,
                ),
                timeout=self.deadline,
                metadata=self._metadata,
                wait_for_ready=wait_for_ready,
            )
        )
        return SessionPage(
            sessions=tuple(convert.session(item) for item in response.sessions),
            next_after_session_key=convert.text(response.next_after_session_key),
        )

    async def resolve_session(
        self,
        *,
        session_id: str = "",
        session_key: str = "",
        session_label: str = "",
        require_existing: bool = False,
        reset_session: bool = False,
    ) -> ResolvedSession:
        """``ResolveSession``: find (or create) a session by id, key or label."""
        request = gateway.ResolveSessionRequest(
            v=PROTOCOL_VERSION,
            session_key=session_key,
            session_label=session_label,
            require_existing=require_existing,
            reset_session=reset_session,
        )
        if session_id:
            request.session_id.CopyFrom(convert.canonical(session_id))
        response = await self._unary(
            self._resolve_session(request, timeout=self.deadline, metadata=self._metadata)
        )
        return convert.resolved(response)

    async def new_session(self, label: str = "") -> ResolvedSession:
        """Create a session with a fresh id."""
        return await self.resolve_session(session_id=new_ulid(), session_label=label)

    async def cleanup_session(
        self, *, session_id: str = "", session_key: str = ""
    ) -> CleanedSession:
        """``CleanupSession``: archive a session (by id or key)."""
        request = gateway.CleanupSessionRequest(v=PROTOCOL_VERSION, session_key=session_key)
        if session_id:
            request.session_id.CopyFrom(convert.canonical(session_id))
        response = await self._unary(
            self._cleanup_session(request, timeout=self.deadline, metadata=self._metadata)
        )
        return convert.cleaned(response)

    async def abort_run(self, run_id: str, reason: str = "") -> AbortResult:
        """``AbortRun``: ask the gateway to cancel a run."""
        response = await self._unary(
            self._abort_run(
                gateway.AbortRunRequest(
                    v=PROTOCOL_VERSION, run_id=convert.canonical(run_id), reason=reason
                ),
                timeout=self.deadline,
                metadata=self._metadata,
            )
        )
        return convert.abort(response)

    async def list_approvals(
        self,
        *,
        limit: int = 0,
        after: str = "",
        subject_id: str = "",
        principal: str = "",
        decision: ApprovalDecision | None = None,
        subject_type: SubjectType | None = None,
        since_ms: int = 0,
        until_ms: int = 0,
        wait_for_ready: bool = False,
    ) -> ApprovalPage:
        """``ListApprovals`` (every principal's records unless ``principal`` filters)."""
        request = gateway.ListApprovalsRequest(
            v=PROTOCOL_VERSION,
            after_approval_ulid=after,
            limit=limit,
            since_unix_ms=since_ms,
            until_unix_ms=until_ms,
            subject_id=subject_id,
            principal=principal,
        )
        if decision is not None and decision is not ApprovalDecision.PENDING:
            request.decision = convert.DECISION_TO_PROTO[decision]
        if subject_type is not None:
            request.subject_type = convert.SUBJECT_TO_PROTO[subject_type]
        response = await self._unary(
            self._list_approvals(
                request,
                timeout=APPROVALS_DEADLINE,
                metadata=self._metadata,
                wait_for_ready=wait_for_ready,
            )
        )
        return ApprovalPage(
            approvals=tuple(convert.approval(item) for item in response.approvals),
            next_after=convert.text(response.next_after_approval_ulid),
        )

    async def pending_approvals(
        self, *, since_ms: int = 0, wait_for_ready: bool = False
    ) -> tuple[Approval, ...]:
        """Approvals nobody has decided yet, requested since ``since_ms`` (0: all).

        The gateway has no pending filter, so records are paged through; a time
        window keeps that to a page or two instead of the whole journal.
        """
        pending: list[Approval] = []
        after = ""
        for _ in range(100):
            page = await self.list_approvals(
                limit=500, after=after, since_ms=since_ms, wait_for_ready=wait_for_ready
            )
            pending.extend(item for item in page.approvals if item.pending)
            if not page.next_after or not page.approvals:
                break
            after = page.next_after
        return tuple(pending)

    async def get_approval(self, approval_id: str) -> Approval:
        """``GetApproval``."""
        response = await self._unary(
            self._get_approval(
                gateway.GetApprovalRequest(
                    v=PROTOCOL_VERSION, approval_id=convert.canonical(approval_id)
                ),
                timeout=APPROVALS_DEADLINE,
                metadata=self._metadata,
            )
        )
        return convert.approval(response.approval)

    def run(
        self,
        session_id: str,
        text: str,
        *,
        run_id: str | None = None,
        first_event_timeout: float | None = FIRST_EVENT_TIMEOUT,
        idle_timeout: float | None = IDLE_TIMEOUT,
        allow_sensitive_tools: bool = False,
    ) -> RunConversation:
        """Start one message turn in ``session_id``: iterate it for the run's events.

        The run fails with :class:`DeadlineExceeded` when the gateway sends no
        first event within ``first_event_timeout`` seconds, or nothing for
        ``idle_timeout`` seconds while no tool call or approval is open (None
        turns either check off).
        """
        return RunConversation(
            self._run_stream,
            self._metadata,
            session_id=session_id,
            text=text,
            run_id=run_id or new_ulid(),
            target=self.target,
            abort=self.abort_run,
            first_event_timeout=first_event_timeout,
            idle_timeout=idle_timeout,
            allow_sensitive_tools=allow_sensitive_tools,
        )

    async def _unary(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise map_rpc_error(error, self.target) from None


__all__ = ["ClientError", "GatewayClient"]
