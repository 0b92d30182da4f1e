"""gRPC failures on the host socket → typed errors with a sentence; no grpc type leaves.

The host and its clients are the same program, so most codes have one cause:

UNAVAILABLE before the call reached the host   → HostNotRunning / HostPermissionDenied
UNAVAILABLE or CANCELLED after it did          → HostDisconnected (the host stopped)
DEADLINE_EXCEEDED                              → HostTimeout
FAILED_PRECONDITION with the host's version    → HostVersionMismatch
INVALID_ARGUMENT, UNIMPLEMENTED, message size  → HostProtocolError
anything else (the handler's own failure)      → HostRemoteError, carrying its sentence
"""

from __future__ import annotations

from pathlib import Path

from palyra_tui.errors import (
    HostConnectFailed,
    HostDisconnected,
    HostError,
    HostNotRunning,
    HostPermissionDenied,
    HostProtocolError,
    HostRemoteError,
    HostTimeout,
    HostVersionMismatch,
)
from palyra_tui.host.channel import grpc
from palyra_tui.host.protocol import ERROR_TYPE_KEY, VERSION_KEY, version_mismatch_sentence
from palyra_tui.text import sanitize_line

_MAX_DETAIL = 500


def map_rpc_error(
    error: grpc.aio.AioRpcError,
    *,
    method: str,
    socket: Path,
    timeout: float | None,
    client_version: int,
) -> HostError:
    """The typed error for a failed call of ``method`` on the host at ``socket``."""
    code = error.code()
    detail = _clean(error.details() or "")
    lowered = detail.lower()
    trailers = _trailers(error)
    if code is grpc.StatusCode.UNAVAILABLE and _before_connect(lowered):
        if "permission denied" in lowered:
            return HostPermissionDenied(
                f"permission denied connecting to the runtime host at {socket}: "
                "it belongs to another user"
            )
        if "connection refused" in lowered:
            return HostNotRunning(
                f"no runtime host is listening at {socket}: the socket is left from a host "
                "that stopped"
            )
        if "no such file" in lowered:
            return HostNotRunning(f"no runtime host is running: nothing listens at {socket}")
        return HostConnectFailed(f"could not connect to the runtime host at {socket}: {detail}")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return HostDisconnected(
            f"the runtime host closed the connection during {method} ({detail or code.name}): "
            "it stopped or restarted"
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        within = f" within {timeout:g} s" if timeout is not None else ""
        return HostTimeout(f"the runtime host did not answer {method}{within}")
    host_version = trailers.get(VERSION_KEY, "")
    if code is grpc.StatusCode.FAILED_PRECONDITION and host_version.isdigit():
        return HostVersionMismatch(
            version_mismatch_sentence(int(host_version), client_version),
            host_version=int(host_version),
            client_version=client_version,
        )
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return HostProtocolError(
            f"the runtime host does not know {method}: it runs another palyra-tui version"
        )
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return HostProtocolError(f"the runtime host could not take {method}: {detail}")
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INTERNAL):
        return HostRemoteError(
            detail or f"the runtime host failed {method}",
            remote_type=trailers.get(ERROR_TYPE_KEY, ""),
        )
    return HostRemoteError(
        f"the runtime host failed {method}: {code.name} {detail}".rstrip(),
        remote_type=trailers.get(ERROR_TYPE_KEY, ""),
    )


def _before_connect(lowered: str) -> bool:
    """True when grpc never reached a listener (its connect failed)."""
    return "failed to connect" in lowered or "connect failed" in lowered


def _trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    found: dict[str, str] = {}
    metadata = error.trailing_metadata()
    if metadata is None:
        return found
    for key, value in metadata:
        if isinstance(value, str):
            found[key] = value
    return found


def _clean(text: str) -> str:
    cleaned = sanitize_line(text).strip()
    return cleaned if len(cleaned) <= _MAX_DETAIL else cleaned[:_MAX_DETAIL] + "…"
