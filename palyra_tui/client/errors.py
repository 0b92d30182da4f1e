"""Errors of the gateway clients, one class per thing an operator can act on.

    ClientError (PalyraError)
    ├── GatewayUnreachable     nothing answers at the gateway's address
    ├── GatewayUnavailable     the gateway answered but cannot serve now (retry)
    ├── AuthRejected           the admin token or principal was refused
    ├── PermissionDenied       authenticated, but policy forbids this call
    ├── RunLoopDisabled        palyrad's run loop is off, so chat cannot work
    ├── ConsoleSessionExpired  the console cookie expired (the client logs in again)
    ├── NotFound               no such session, run or approval
    ├── InvalidRequest         the gateway rejected the request's content
    ├── AlreadyExists          e.g. a reused run id
    ├── PreconditionFailed     the gateway is not in a state to do this
    ├── RateLimited            too many requests (retry later)
    ├── DeadlineExceeded       no answer in time
    ├── ProtocolError          an answer palyra-tui cannot understand
    └── GatewayError           anything else the gateway reported

Every message is sanitized before it becomes part of an error: gateway text
is untrusted.
"""

from __future__ import annotations

from palyra_tui.errors import PalyraError
from palyra_tui.text import sanitize_line

_MAX_DETAIL = 300


def clean_detail(text: str) -> str:
    """A gateway-provided message, safe and short enough for one line."""
    cleaned = sanitize_line(text).strip()
    if len(cleaned) > _MAX_DETAIL:
        cleaned = cleaned[:_MAX_DETAIL] + "…"
    return cleaned


class ClientError(PalyraError):
    """Something went wrong talking to the gateway."""

    retryable = False

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class GatewayUnreachable(ClientError):
    """Nothing answers at the gateway's address."""

    retryable = True


class GatewayUnavailable(ClientError):
    """The gateway answered but cannot serve the call now."""

    retryable = True


class AuthRejected(ClientError):
    """The admin token (or the principal bound to it) was refused."""


class PermissionDenied(ClientError):
    """Authenticated, but the gateway's policy forbids the call."""


class RunLoopDisabled(ClientError):
    """palyrad runs without its orchestrator run loop."""


class ConsoleSessionExpired(ClientError):
    """The console session cookie is missing or expired."""

    retryable = True


class NotFound(ClientError):
    """No such session, run or approval."""


class InvalidRequest(ClientError):
    """The gateway rejected the request."""


class AlreadyExists(ClientError):
    """The id is taken."""


class PreconditionFailed(ClientError):
    """The gateway is not in a state to do this."""


class RateLimited(ClientError):
    """Too many requests."""

    retryable = True


class DeadlineExceeded(ClientError):
    """No answer in time."""

    retryable = True


class ProtocolError(ClientError):
    """An answer that does not follow palyrad's contract."""


class GatewayError(ClientError):
    """Any other failure the gateway reported."""
