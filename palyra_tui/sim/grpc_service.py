"""The reference gateway's gRPC services: ``GatewayService`` and ``ApprovalsService``.

Auth, ``v`` checks, error codes and messages follow palyrad.
``RunStream`` lives in :mod:`palyra_tui.sim.run_stream`.
"""

from __future__ import annotations

from typing import Any

import grpc

from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc._generated.palyra.v1 import gateway_pb2 as gateway
from palyra_tui.sim import proto
from palyra_tui.sim.auth import AuthFailure, authorize, require_admin_prefix
from palyra_tui.sim.grpc_abort import Context, abort, check_version, resolve_or_abort
from palyra_tui.sim.logs import JsonLog, now_ms
from palyra_tui.sim.run_stream import RunStreamHandler
from palyra_tui.sim.store import Identity, Store, valid_ulid

SERVICE_NAME = "palyra-tui-sim"
VERSION = "0.1.0-sim"


def health_fields(store: Store) -> dict[str, Any]:
    """What both health answers (gRPC and ``/healthz``) say."""
    return {
        "service": SERVICE_NAME,
        "status": "ok",
        "version": VERSION,
        "git_hash": "unknown",
        "build_profile": "sim",
        "uptime_seconds": (now_ms() - store.started_ms) // 1000,
    }


class GatewayServices:
    """Handlers of every RPC the reference gateway serves."""

    def __init__(self, store: Store, log: JsonLog) -> None:
        self.store = store
        self.log = log
        self.run_stream = RunStreamHandler(store, log, self.authorize)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        """Generic handlers to add to a ``grpc.aio`` server."""
        unary = grpc.unary_unary_rpc_method_handler
        gateway_methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            "GetHealth": unary(
                self.get_health,
                request_deserializer=gateway.HealthRequest.FromString,
                response_serializer=gateway.HealthResponse.SerializeToString,
            ),
            "ListSessions": unary(
                self.list_sessions,
                request_deserializer=gateway.ListSessionsRequest.FromString,
                response_serializer=gateway.ListSessionsResponse.SerializeToString,
            ),
            "ResolveSession": unary(
                self.resolve_session,
                request_deserializer=gateway.ResolveSessionRequest.FromString,
                response_serializer=gateway.ResolveSessionResponse.SerializeToString,
            ),
            "CleanupSession": unary(
                self.cleanup_session,
                request_deserializer=gateway.CleanupSessionRequest.FromString,
                response_serializer=gateway.CleanupSessionResponse.SerializeToString,
            ),
            "AbortRun": unary(
                self.abort_run,
                request_deserializer=gateway.AbortRunRequest.FromString,
                response_serializer=gateway.AbortRunResponse.SerializeToString,
            ),
            "RunStream": grpc.stream_stream_rpc_method_handler(
                self.run_stream.handle,
                request_deserializer=common.RunStreamRequest.FromString,
                response_serializer=common.RunStreamEvent.SerializeToString,
            ),
        }
        approval_methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            "ListApprovals": unary(
                self.list_approvals,
                request_deserializer=gateway.ListApprovalsRequest.FromString,
                response_serializer=gateway.ListApprovalsResponse.SerializeToString,
            ),
            "GetApproval": unary(
                self.get_approval,
                request_deserializer=gateway.GetApprovalRequest.FromString,
                response_serializer=gateway.GetApprovalResponse.SerializeToString,
            ),
        }
        return [
            grpc.method_handlers_generic_handler(
                "palyra.gateway.v1.GatewayService", gateway_methods
            ),
            grpc.method_handlers_generic_handler(
                "palyra.gateway.v1.ApprovalsService", approval_methods
            ),
        ]

    async def authorize(self, context: Context, method: str) -> Identity:
        """palyrad's metadata check; PERMISSION_DENIED with its message on failure."""
        headers = {key: value for key, value in _metadata(context)}
        try:
            return authorize(self.store.settings, headers)
        except AuthFailure as failure:
            self.store.count("denied_requests")
            self.log.warn("gateway rpc authorization denied", method=method, error=str(failure))
            await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(failure))

    async def get_health(
        self, request: gateway.HealthRequest, context: Context
    ) -> gateway.HealthResponse:
        """No auth, no ``v`` check."""
        return gateway.HealthResponse(v=1, **health_fields(self.store))

    async def list_sessions(
        self, request: gateway.ListSessionsRequest, context: Context
    ) -> gateway.ListSessionsResponse:
        """The caller's sessions, paged by key."""
        identity = await self.authorize(context, "ListSessions")
        await check_version(request.v, context)
        limit = 100 if request.limit == 0 else min(request.limit, 500)
        needle = request.q.strip().lower()
        sessions = [
            s
            for s in self.store.sessions_of(identity, include_archived=request.include_archived)
            if s.session_key > request.after_session_key
            and (not needle or needle in f"{s.title} {s.preview} {s.session_key}".lower())
        ]
        page = sessions[:limit]
        next_key = page[-1].session_key if len(sessions) > limit else ""
        return gateway.ListSessionsResponse(
            v=1, sessions=[proto.session(s) for s in page], next_after_session_key=next_key
        )

    async def resolve_session(
        self, request: gateway.ResolveSessionRequest, context: Context
    ) -> gateway.ResolveSessionResponse:
        """Find or create a session."""
        identity = await self.authorize(context, "ResolveSession")
        await check_version(request.v, context)
        session_id = request.session_id.ulid
        if session_id and not valid_ulid(session_id):
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "session_id must be a ULID")
        session, created, reset = await resolve_or_abort(
            context,
            lambda: self.store.resolve_session(
                identity,
                session_id=session_id,
                session_key=request.session_key,
                label=request.session_label,
                require_existing=request.require_existing,
                reset=request.reset_session,
            ),
        )
        return gateway.ResolveSessionResponse(
            v=1, session=proto.session(session), created=created, reset_applied=reset
        )

    async def cleanup_session(
        self, request: gateway.CleanupSessionRequest, context: Context
    ) -> gateway.CleanupSessionResponse:
        """Archive a session by id or key."""
        identity = await self.authorize(context, "CleanupSession")
        await check_version(request.v, context)
        if not request.session_id.ulid and not request.session_key:
            await abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "session_id or session_key is required"
            )
        session, _, _ = await resolve_or_abort(
            context,
            lambda: self.store.resolve_session(
                identity,
                session_id=request.session_id.ulid,
                session_key=request.session_key,
                require_existing=True,
            ),
        )
        newly, previous = self.store.archive(session)
        return gateway.CleanupSessionResponse(
            v=1,
            session=proto.session(session),
            cleaned=True,
            newly_archived=newly,
            previous_session_key=previous,
            run_count=session.run_count,
        )

    async def abort_run(
        self, request: gateway.AbortRunRequest, context: Context
    ) -> gateway.AbortRunResponse:
        """Set a run's cancel flag; the run notices it within 100 ms."""
        await self.authorize(context, "AbortRun")
        await check_version(request.v, context)
        run = self.store.runs.get(request.run_id.ulid)
        if run is None:
            await abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"orchestrator run not found: {request.run_id.ulid}",
            )
        reason = request.reason or "grpc_abort_requested"
        run.cancel_requested = True
        run.cancel_reason = reason
        return gateway.AbortRunResponse(
            v=1, run_id=common.CanonicalId(ulid=run.run_id), cancel_requested=True, reason=reason
        )

    async def list_approvals(
        self, request: gateway.ListApprovalsRequest, context: Context
    ) -> gateway.ListApprovalsResponse:
        """Every principal's approval records (filters narrow them)."""
        identity = await self.authorize(context, "ListApprovals")
        await self._require_admin(identity, "approvals.list", context)
        await check_version(request.v, context)
        since, until = request.since_unix_ms, request.until_unix_ms
        if since and until and since > until:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "since_unix_ms must be <= until")
        page, cursor = self.store.list_approvals(
            after=request.after_approval_ulid,
            limit=request.limit,
            since_ms=request.since_unix_ms,
            until_ms=request.until_unix_ms,
            subject_id=request.subject_id,
            principal=request.principal,
            decision=proto.DECISION_NAMES.get(request.decision, ""),
            subject_type=proto.SUBJECT_NAMES.get(request.subject_type, ""),
        )
        return gateway.ListApprovalsResponse(
            v=1, approvals=[proto.approval(a) for a in page], next_after_approval_ulid=cursor
        )

    async def get_approval(
        self, request: gateway.GetApprovalRequest, context: Context
    ) -> gateway.GetApprovalResponse:
        """One approval record."""
        identity = await self.authorize(context, "GetApproval")
        await self._require_admin(identity, "approvals.get", context)
        await check_version(request.v, context)
        record = self.store.approvals.get(request.approval_id.ulid)
        if record is None:
            await abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"approval record not found: {request.approval_id.ulid}",
            )
        return gateway.GetApprovalResponse(v=1, approval=proto.approval(record))

    async def _require_admin(self, identity: Identity, action: str, context: Context) -> None:
        try:
            require_admin_prefix(identity, action)
        except AuthFailure as failure:
            self.store.count("denied_requests")
            await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(failure))


def _metadata(context: Context) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in context.invocation_metadata() or ():
        key, value = item[0], item[1]
        pairs.append((key, value.decode() if isinstance(value, bytes) else value))
    return pairs
