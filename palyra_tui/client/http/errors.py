"""palyrad's HTTP error envelope → the same typed errors the gRPC client raises.

Envelope: ``{"error", "code", "category", "retryable", "redacted", "validation_errors"?}``,
the same for every error from the admin and console routes.
"""

from __future__ import annotations

import json

from palyra_tui.client.errors import (
    AuthRejected,
    ClientError,
    ConsoleSessionExpired,
    GatewayError,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RunLoopDisabled,
    clean_detail,
)

SESSION_MARKERS = ("console session", "session cookie")


def envelope_message(body: bytes) -> tuple[str, str]:
    """``(message, code)`` from an error body; raw text when it is not an envelope."""
    try:
        document = json.loads(body)
    except ValueError:
        return clean_detail(body[:256].decode("utf-8", errors="replace")), ""
    if not isinstance(document, dict):
        return "", ""
    message = document.get("error")
    code = document.get("code")
    return (
        clean_detail(message) if isinstance(message, str) else "",
        code if isinstance(code, str) else "",
    )


def map_http_error(status: int, body: bytes, what: str) -> ClientError:
    """The typed error for an HTTP failure of ``what`` (a short description)."""
    message, code = envelope_message(body)
    detail = message or f"HTTP {status}"
    lowered = message.lower()
    if status == 401:
        return AuthRejected(f"admin token rejected by the gateway ({detail})", detail=detail)
    if status == 403:
        if any(marker in lowered for marker in SESSION_MARKERS):
            return ConsoleSessionExpired(f"console session expired ({detail})", detail=detail)
        if "csrf" in lowered:
            return ConsoleSessionExpired(f"console CSRF token refused ({detail})", detail=detail)
        return PermissionDenied(f"the gateway refused {what}: {detail}", detail=detail)
    if status == 404:
        return NotFound(f"not found: {detail}", detail=detail)
    if status == 400:
        return InvalidRequest(f"the gateway rejected {what}: {detail}", detail=detail)
    if status == 412:
        if "run loop" in lowered:
            return RunLoopDisabled(
                "run loop disabled in palyrad: set PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true",
                detail=detail,
            )
        return PreconditionFailed(f"the gateway cannot do {what} now: {detail}", detail=detail)
    if status == 429:
        return RateLimited(f"the gateway is rate-limiting requests: {detail}", detail=detail)
    if status == 503:
        return GatewayUnavailable(f"gateway unavailable: {detail}", detail=detail)
    suffix = f" ({code})" if code else ""
    return GatewayError(f"{what} failed with HTTP {status}: {detail}{suffix}", detail=detail)
