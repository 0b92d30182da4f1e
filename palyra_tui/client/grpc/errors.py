"""gRPC status codes → the client's typed errors, with sentences a person can act on."""

from __future__ import annotations

import grpc

from palyra_tui.client.errors import (
    AlreadyExists,
    AuthRejected,
    ClientError,
    DeadlineExceeded,
    GatewayError,
    GatewayUnavailable,
    GatewayUnreachable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ProtocolError,
    RateLimited,
    RunLoopDisabled,
    clean_detail,
)

_AUTH_MARKERS = (
    "authorization header",
    "authorization token",
    "admin auth token",
    "principal",
)


def map_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError, target: str) -> ClientError:
    """The typed error for a failed call to the gateway at ``target``."""
    code = error.code() if isinstance(error, grpc.aio.AioRpcError | grpc.Call) else None
    details = error.details() if isinstance(error, grpc.aio.AioRpcError | grpc.Call) else None
    detail = clean_detail(details or "")
    lowered = detail.lower()
    if code is grpc.StatusCode.UNAVAILABLE:
        if _is_connection_failure(lowered):
            return GatewayUnreachable(
                f"gateway unreachable at {target}: is palyrad running?", detail=detail
            )
        return GatewayUnavailable(f"gateway unavailable: {detail or 'try again'}", detail=detail)
    if code is grpc.StatusCode.PERMISSION_DENIED:
        if "admin/system principal" in lowered:
            return PermissionDenied(
                "the gateway refused: approvals need an admin: or system: principal",
                detail=detail,
            )
        if any(marker in lowered for marker in _AUTH_MARKERS) or "token" in lowered:
            return AuthRejected(f"admin token rejected by the gateway ({detail})", detail=detail)
        return PermissionDenied(f"the gateway refused: {detail}", detail=detail)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return AuthRejected(f"admin token rejected by the gateway ({detail})", detail=detail)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        if "run loop" in lowered:
            return RunLoopDisabled(
                "run loop disabled in palyrad: set PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true",
                detail=detail,
            )
        if "protocol major version" in lowered:
            return ProtocolError(f"the gateway speaks another protocol version ({detail})")
        return PreconditionFailed(f"the gateway cannot do this now: {detail}", detail=detail)
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(f"not found: {detail}", detail=detail)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidRequest(f"the gateway rejected the request: {detail}", detail=detail)
    if code is grpc.StatusCode.ALREADY_EXISTS:
        return AlreadyExists(f"already exists: {detail}", detail=detail)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceeded(f"the gateway at {target} did not answer in time", detail=detail)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        return RateLimited(f"the gateway is rate-limiting requests: {detail}", detail=detail)
    name = code.name if code is not None else "UNKNOWN"
    return GatewayError(f"gateway error {name}: {detail or 'no details'}", detail=detail)


def _is_connection_failure(lowered: str) -> bool:
    return any(
        marker in lowered
        for marker in (
            "connection refused",
            "failed to connect",
            "connect failed",
            "dns resolution failed",
            "no route",
            "socket closed",
            "connection reset",
            "unreachable",
        )
    )
