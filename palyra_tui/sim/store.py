"""The reference gateway's state: sessions, runs, approvals, grants, console logins.

Everything lives in memory on the gateway's one event loop (the gRPC and HTTP
servers share it), so no locks are needed.  Like palyrad, console sessions do
not survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

from palyra_tui.models.ids import is_ulid, new_ulid
from palyra_tui.sim.logs import now_ms

CONSOLE_TTL_MS = 30 * 60 * 1000
HANDOFF_TTL_MS = 60 * 1000
MAX_CONSOLE_SESSIONS = 1024


@dataclass(frozen=True, slots=True)
class Identity:
    """The (principal, device, channel) a request runs as."""

    principal: str
    device_id: str
    channel: str = ""


@dataclass(slots=True)
class Settings:
    """What the gateway was started with (flags and ``PALYRA_*`` environment)."""

    admin_token: str
    require_auth: bool = True
    bound_principal: str = ""
    runloop_enabled: bool = False
    approval_timeout_s: float = 60.0
    token_delay_s: float = 0.0
    tool_followup: bool = True
    admin_port: int = 0
    grpc_port: int = 0
    openai_base_url: str = ""
    """Where API keys are checked (``PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL``)."""


@dataclass(slots=True)
class SimSession:
    """A chat session, owned by one identity."""

    session_id: str
    session_key: str
    label: str
    owner: Identity
    created_ms: int
    updated_ms: int
    last_run_id: str = ""
    last_run_state: str = ""
    archived_ms: int = 0
    preview: str = ""
    run_count: int = 0

    @property
    def title(self) -> str:
        """palyrad's title: the label, else the session key."""
        return self.label or self.session_key

    @property
    def title_source(self) -> str:
        """Where the title comes from."""
        return "label" if self.label else "session_key"


@dataclass(slots=True)
class SimRun:
    """A run of a session."""

    run_id: str
    session_id: str
    state: str = "accepted"
    cancel_requested: bool = False
    cancel_reason: str = ""


@dataclass(slots=True)
class SimApproval:
    """An approval record in the journal."""

    approval_id: str
    session_id: str
    run_id: str
    owner: Identity
    requested_ms: int
    subject_id: str
    request_summary: str
    tool_name: str
    input_json: str
    risk: str
    timeout_seconds: int
    details_json: str
    resolved_ms: int = 0
    decision: str = ""
    decision_scope: str = ""
    decision_reason: str = ""
    decision_scope_ttl_ms: int = 0
    subject_type: str = "tool"
    title: str = ""
    """The prompt's title; "" gives a tool approval's."""
    summary: str = ""
    """The prompt's summary; "" gives a tool approval's."""
    policy_explanation: str = ""
    """The prompt's policy sentence; "" gives a tool approval's."""

    @property
    def pending(self) -> bool:
        """True until decided."""
        return not self.decision


@dataclass(slots=True)
class ConsoleLogin:
    """A console session behind a cookie."""

    token: str
    identity: Identity
    csrf_token: str
    issued_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class SimHandoff:
    """A browser handoff: where it leads, for whom, and until when (only its token's
    SHA-256 is kept, as the key)."""

    redirect_path: str
    identity: Identity
    expires_ms: int


@dataclass(slots=True)
class TranscriptEntry:
    """One journal record of a session."""

    session_id: str
    run_id: str
    seq: int
    event_type: str
    payload_json: str
    created_ms: int


@dataclass(slots=True)
class Store:
    """All of the reference gateway's state."""

    settings: Settings
    started_ms: int = field(default_factory=now_ms)
    sessions: dict[str, SimSession] = field(default_factory=dict)
    runs: dict[str, SimRun] = field(default_factory=dict)
    approvals: dict[str, SimApproval] = field(default_factory=dict)
    grants: dict[tuple[Identity, str, str], int] = field(default_factory=dict)
    console: dict[str, ConsoleLogin] = field(default_factory=dict)
    handoffs: dict[str, SimHandoff] = field(default_factory=dict)
    """Browser handoffs by the SHA-256 of their token."""
    transcript: list[TranscriptEntry] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, by: int = 1) -> None:
        """Bump a counter of ``/admin/v1/status``."""
        self.counters[name] = self.counters.get(name, 0) + by

    # Sessions ----------------------------------------------------------------

    def resolve_session(
        self,
        identity: Identity,
        *,
        session_id: str = "",
        session_key: str = "",
        label: str = "",
        require_existing: bool = False,
        reset: bool = False,
    ) -> tuple[SimSession, bool, bool]:
        """Find or create a session: by id, then key, then label.

        As in palyrad, a label given for a session that exists renames it.

        Raises ``LookupError`` (not found) or ``PermissionError`` (another identity's).
        """
        found: SimSession | None = None
        if session_id:
            found = self.sessions.get(session_id)
        elif session_key:
            found = next((s for s in self.sessions.values() if s.session_key == session_key), None)
        elif label:
            found = next((s for s in self.sessions.values() if s.label == label), None)
        if found is not None:
            if found.owner != identity:
                raise PermissionError("orchestrator session identity mismatch for this context")
            found.updated_ms = now_ms()
            if label:
                found.label = label
            if reset:
                found.last_run_id = ""
                self.grants = {k: v for k, v in self.grants.items() if k[1] != found.session_id}
            return found, False, reset
        if require_existing:
            raise LookupError(
                f"orchestrator session not found: {session_id or session_key or label}"
            )
        new_id = session_id or new_ulid()
        created = now_ms()
        session = SimSession(
            session_id=new_id,
            session_key=session_key or new_id,
            label=label,
            owner=identity,
            created_ms=created,
            updated_ms=created,
        )
        self.sessions[new_id] = session
        return session, True, False

    def sessions_of(self, identity: Identity, *, include_archived: bool) -> list[SimSession]:
        """An identity's sessions, ordered by key."""
        return sorted(
            (
                s
                for s in self.sessions.values()
                if s.owner == identity and (include_archived or not s.archived_ms)
            ),
            key=lambda s: s.session_key,
        )

    def archive(self, session: SimSession) -> tuple[bool, str]:
        """CleanupSession: archive under a new key; returns (newly archived, previous key)."""
        previous = session.session_key
        if session.archived_ms:
            return False, previous
        session.archived_ms = now_ms()
        session.session_key = f"archived:{session.session_id}:{session.archived_ms}"
        session.last_run_id = ""
        self.grants = {k: v for k, v in self.grants.items() if k[1] != session.session_id}
        return True, previous

    # Approvals ---------------------------------------------------------------

    def grant_for(self, identity: Identity, session_id: str, subject_id: str) -> bool:
        """True while a SESSION or TIMEBOXED grant covers this subject."""
        expires = self.grants.get((identity, session_id, subject_id))
        if expires is None:
            return False
        if expires and expires < now_ms():
            del self.grants[(identity, session_id, subject_id)]
            return False
        return True

    def remember_grant(
        self, identity: Identity, session_id: str, subject_id: str, scope: str, ttl_ms: int
    ) -> None:
        """Cache a SESSION (no expiry) or TIMEBOXED grant."""
        if scope == "session":
            self.grants[(identity, session_id, subject_id)] = 0
        elif scope == "timeboxed" and ttl_ms > 0:
            self.grants[(identity, session_id, subject_id)] = now_ms() + ttl_ms

    def resolve_approval(
        self, approval: SimApproval, decision: str, scope: str, reason: str, ttl_ms: int = 0
    ) -> None:
        """Record the outcome of an approval."""
        approval.decision = decision
        approval.decision_scope = scope
        approval.decision_reason = reason
        approval.decision_scope_ttl_ms = ttl_ms
        approval.resolved_ms = now_ms()
        self.count(f"approvals_tool_resolved_{decision}")

    def list_approvals(
        self,
        *,
        after: str = "",
        limit: int = 0,
        since_ms: int = 0,
        until_ms: int = 0,
        subject_id: str = "",
        principal: str = "",
        decision: str = "",
        subject_type: str = "",
    ) -> tuple[list[SimApproval], str]:
        """A page of approvals in id order, and the cursor of the next page."""
        limit = 100 if limit <= 0 else min(limit, 500)
        selected = [
            a
            for _, a in sorted(self.approvals.items())
            if (not after or a.approval_id > after)
            and (not since_ms or a.requested_ms >= since_ms)
            and (not until_ms or a.requested_ms <= until_ms)
            and (not subject_id or a.subject_id == subject_id)
            and (not principal or a.owner.principal == principal)
            and (not decision or a.decision == decision)
            and (not subject_type or a.subject_type == subject_type)
        ]
        page = selected[:limit]
        cursor = page[-1].approval_id if len(selected) > limit else ""
        return page, cursor

    # Console -------------------------------------------------------------------

    def open_console(self, identity: Identity) -> ConsoleLogin:
        """A new console session (the oldest goes when 1024 are open)."""
        if len(self.console) >= MAX_CONSOLE_SESSIONS:
            oldest = min(self.console.values(), key=lambda login: login.issued_ms)
            del self.console[oldest.token]
        issued = now_ms()
        login = ConsoleLogin(
            token=secrets.token_urlsafe(32),
            identity=identity,
            csrf_token=secrets.token_urlsafe(24),
            issued_ms=issued,
            expires_ms=issued + CONSOLE_TTL_MS,
        )
        self.console[login.token] = login
        return login

    def console_login(self, token: str) -> ConsoleLogin | None:
        """The live session behind a cookie, slid forward; None when expired."""
        login = self.console.get(token)
        if login is None:
            return None
        now = now_ms()
        if login.expires_ms < now:
            del self.console[token]
            return None
        login.expires_ms = now + CONSOLE_TTL_MS
        return login

    def open_handoff(self, identity: Identity, redirect_path: str) -> tuple[str, SimHandoff]:
        """A new browser handoff and its token (expired ones are dropped first)."""
        now = now_ms()
        self.handoffs = {k: v for k, v in self.handoffs.items() if v.expires_ms > now}
        token = secrets.token_urlsafe(32)
        handoff = SimHandoff(redirect_path, identity, now + HANDOFF_TTL_MS)
        self.handoffs[_sha256(token)] = handoff
        return token, handoff

    def handoff(self, token: str, *, consume: bool) -> SimHandoff | None:
        """The live handoff of a token; ``consume`` removes it, so it works once."""
        now = now_ms()
        self.handoffs = {k: v for k, v in self.handoffs.items() if v.expires_ms > now}
        key = _sha256(token)
        return self.handoffs.pop(key, None) if consume else self.handoffs.get(key)

    def record(self, session_id: str, run_id: str, event_type: str, payload: object) -> None:
        """Append a transcript record."""
        seq = sum(1 for entry in self.transcript if entry.run_id == run_id)
        self.transcript.append(
            TranscriptEntry(
                session_id=session_id,
                run_id=run_id,
                seq=seq,
                event_type=event_type,
                payload_json=json.dumps(payload, separators=(",", ":")),
                created_ms=now_ms(),
            )
        )


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(supplied.encode(), expected.encode())


def valid_ulid(value: str) -> bool:
    """True for a canonical ULID."""
    return is_ulid(value)
