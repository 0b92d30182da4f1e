"""Value types for palyrad's HTTP surface: admin status and the console API.

palyrad's console answers are large JSON objects; palyra-tui keeps the fields
it shows, typed, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A console login: the cookie lives in the HTTP client, the CSRF token here."""

    principal: str
    device_id: str
    channel: str
    csrf_token: str = field(repr=False)
    issued_at_ms: int
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class AdminStatus:
    """The parts of ``GET /admin/v1/status`` the control center shows."""

    service: str
    status: str
    version: str
    git_hash: str
    uptime_seconds: int
    runloop_enabled: bool
    admin_auth_required: bool
    model_provider: str
    grpc_port: int
    principal: str
    counters: tuple[tuple[str, int], ...] = ()

    def counter(self, name: str) -> int:
        """One counter, 0 when absent."""
        for key, value in self.counters:
            if key == name:
                return value
        return 0


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """``GET /console/v1/diagnostics``, reduced to what an operator acts on.

    ``errors`` follows the desktop's collector: strings under keys that
    mention error, failure, warning, detail, reason or message, sanitized,
    redacted, de-duplicated, at most 25.
    """

    generated_at_ms: int
    errors: tuple[str, ...]
    denied_requests_total: int
    sections: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrowserHandoff:
    """A one-time dashboard URL; it works for 60 s and only on the gateway's host."""

    url: str = field(repr=False)
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class CatalogSession:
    """One entry of the console's session catalog."""

    session_id: str
    session_key: str
    title: str
    preview: str
    updated_at_ms: int
    last_run_id: str
    last_run_state: str
    pending_approvals: int
    archived: bool


@dataclass(frozen=True, slots=True)
class TranscriptRecord:
    """One journal record of a chat session."""

    run_id: str
    seq: int
    event_type: str
    payload_json: str
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class Transcript:
    """A session's transcript, in journal order."""

    session_id: str
    records: tuple[TranscriptRecord, ...]
