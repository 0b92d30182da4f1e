"""palyrad's request authorization, shared by the gRPC and HTTP servers."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from palyra_tui.sim.store import Identity, Settings, token_matches, valid_ulid


class FailureKind(enum.Enum):
    """Why a request was refused; the HTTP status depends on it."""

    TOKEN = "token"
    CONTEXT = "context"
    NOT_CONFIGURED = "not-configured"


class AuthFailure(Exception):
    """A refused request, with palyrad's message."""

    def __init__(self, message: str, kind: FailureKind) -> None:
        super().__init__(message)
        self.kind = kind


def authorize(settings: Settings, headers: Mapping[str, str]) -> Identity:
    """Check the Bearer token, then the request context; return the caller's identity."""
    if settings.require_auth:
        if not settings.admin_token:
            raise AuthFailure(
                "admin auth token is required but no token is configured",
                FailureKind.NOT_CONFIGURED,
            )
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthFailure("authorization header is missing or malformed", FailureKind.TOKEN)
        if not token_matches(token.strip(), settings.admin_token):
            raise AuthFailure("authorization token is invalid", FailureKind.TOKEN)
    identity = request_context(headers)
    bound = settings.bound_principal
    if settings.require_auth and bound and identity.principal != bound:
        raise AuthFailure("authorization token is invalid", FailureKind.TOKEN)
    return identity


def request_context(headers: Mapping[str, str]) -> Identity:
    """The principal, device and channel headers, validated as palyrad does."""
    principal = headers.get("x-palyra-principal")
    if principal is None:
        raise AuthFailure(
            "request context field 'x-palyra-principal' is required", FailureKind.CONTEXT
        )
    if not principal.strip():
        raise AuthFailure(
            "request context field 'x-palyra-principal' cannot be empty", FailureKind.CONTEXT
        )
    device = headers.get("x-palyra-device-id")
    if device is None:
        raise AuthFailure(
            "request context field 'x-palyra-device-id' is required", FailureKind.CONTEXT
        )
    if not device.strip():
        raise AuthFailure(
            "request context field 'x-palyra-device-id' cannot be empty", FailureKind.CONTEXT
        )
    if not valid_ulid(device.strip()):
        raise AuthFailure("request context device_id must be a canonical ULID", FailureKind.CONTEXT)
    channel = headers.get("x-palyra-channel")
    if channel is not None and not channel.strip():
        raise AuthFailure(
            "request context field 'x-palyra-channel' cannot be empty", FailureKind.CONTEXT
        )
    return Identity(principal.strip(), device.strip(), (channel or "").strip())


def require_admin_prefix(identity: Identity, action: str) -> None:
    """The Approvals APIs need an ``admin:`` or ``system:`` principal."""
    if not identity.principal.startswith(("admin:", "system:")):
        raise AuthFailure(
            f"policy denied action '{action}' on 'approvals:records': "
            "approvals APIs require admin/system principal prefix",
            FailureKind.TOKEN,
        )
