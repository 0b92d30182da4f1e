"""Value types for what the gateway says: health, sessions, approvals and run events.

The gRPC and HTTP clients map palyrad's messages to these; nothing above the
client package sees a protobuf or a raw JSON payload.  Every string in them has
passed the terminal sanitizer (newlines and tabs are kept), and JSON payloads
are kept whole as text, so an operator can review a tool's full input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RiskLevel(enum.Enum):
    """How dangerous the gateway thinks an approval is."""

    UNSPECIFIED = "unspecified"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DecisionScope(enum.Enum):
    """How far an approval decision reaches."""

    UNSPECIFIED = "unspecified"
    ONCE = "once"
    SESSION = "session"
    TIMEBOXED = "timeboxed"


class ApprovalDecision(enum.Enum):
    """The outcome recorded on an approval; PENDING until someone decides."""

    PENDING = "pending"
    ALLOW = "allow"
    DENY = "deny"
    TIMEOUT = "timeout"
    ERROR = "error"


class SubjectType(enum.Enum):
    """What an approval is about."""

    UNSPECIFIED = "unspecified"
    TOOL = "tool"
    CHANNEL_SEND = "channel_send"
    SECRET_ACCESS = "secret_access"
    BROWSER_ACTION = "browser_action"
    NODE_CAPABILITY = "node_capability"
    DEVICE_PAIRING = "device_pairing"


class RunStatus(enum.Enum):
    """Stream status kinds of a run."""

    UNSPECIFIED = "unspecified"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"


CANCELLED_MESSAGE = "cancelled by request"


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    """``GetHealth`` or ``/healthz``."""

    service: str
    status: str
    version: str
    git_hash: str
    build_profile: str
    uptime_seconds: int


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A chat session as ``ListSessions`` describes it."""

    session_id: str
    session_key: str = ""
    session_label: str = ""
    created_at_ms: int = 0
    updated_at_ms: int = 0
    last_run_id: str = ""
    archived_at_ms: int = 0
    title: str = ""
    title_source: str = ""
    title_generator_version: str = ""
    preview: str = ""
    preview_state: str = ""
    last_intent: str = ""
    last_summary: str = ""
    match_snippet: str = ""
    branch_state: str = ""
    parent_session_id: str = ""
    last_run_state: str = ""

    @property
    def display_title(self) -> str:
        """Title, else label, else key, else the id."""
        return self.title or self.session_label or self.session_key or self.session_id

    @property
    def last_activity_ms(self) -> int:
        """When the session was last used, Unix ms (palyrad bumps ``updated_at`` per run)."""
        return max(self.updated_at_ms, self.created_at_ms)


@dataclass(frozen=True, slots=True)
class SessionPage:
    """One page of ``ListSessions``."""

    sessions: tuple[SessionSummary, ...]
    next_after_session_key: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedSession:
    """``ResolveSession``: the session, and whether it was created or reset."""

    session: SessionSummary
    created: bool
    reset_applied: bool


@dataclass(frozen=True, slots=True)
class CleanedSession:
    """``CleanupSession``: the archived session."""

    session: SessionSummary | None
    cleaned: bool
    newly_archived: bool
    previous_session_key: str
    run_count: int


@dataclass(frozen=True, slots=True)
class AbortResult:
    """``AbortRun``: the gateway only sets a flag; the run reports the cancellation."""

    run_id: str
    cancel_requested: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ApprovalOption:
    """One choice an approval prompt offers."""

    option_id: str
    label: str
    description: str
    default_selected: bool
    scope: DecisionScope
    timebox_ttl_ms: int = 0


@dataclass(frozen=True, slots=True)
class ApprovalPrompt:
    """What the gateway asks a person to decide."""

    title: str = ""
    risk: RiskLevel = RiskLevel.UNSPECIFIED
    subject_id: str = ""
    summary: str = ""
    options: tuple[ApprovalOption, ...] = ()
    timeout_seconds: int = 0
    details_json: str = ""
    policy_explanation: str = ""


@dataclass(frozen=True, slots=True)
class Approval:
    """An approval record from the journal (``ListApprovals``/console)."""

    approval_id: str
    session_id: str = ""
    run_id: str = ""
    principal: str = ""
    device_id: str = ""
    channel: str = ""
    requested_at_ms: int = 0
    resolved_at_ms: int = 0
    subject_type: SubjectType = SubjectType.UNSPECIFIED
    subject_id: str = ""
    request_summary: str = ""
    decision: ApprovalDecision = ApprovalDecision.PENDING
    scope: DecisionScope = DecisionScope.UNSPECIFIED
    policy_id: str = ""
    policy_hash: str = ""
    policy_summary: str = ""
    prompt: ApprovalPrompt = ApprovalPrompt()
    decision_reason: str = ""
    scope_ttl_ms: int = 0

    @property
    def pending(self) -> bool:
        """True while nobody has decided."""
        return self.decision is ApprovalDecision.PENDING


@dataclass(frozen=True, slots=True)
class ApprovalPage:
    """One page of approvals."""

    approvals: tuple[Approval, ...]
    next_after: str = ""


# Run events ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalAnswer:
    """A decision to send back for an approval request."""

    approved: bool
    scope: DecisionScope = DecisionScope.ONCE
    ttl_ms: int = 0
    reason: str = ""

    @classmethod
    def allow_once(cls) -> ApprovalAnswer:
        """Allow this call only."""
        return cls(approved=True)

    @classmethod
    def allow_session(cls) -> ApprovalAnswer:
        """Allow this tool for the rest of the session."""
        return cls(approved=True, scope=DecisionScope.SESSION)

    @classmethod
    def allow_for(cls, ttl_ms: int) -> ApprovalAnswer:
        """Allow this tool for ``ttl_ms`` milliseconds."""
        if ttl_ms <= 0:
            raise ValueError("a timeboxed approval needs a positive duration")
        return cls(approved=True, scope=DecisionScope.TIMEBOXED, ttl_ms=ttl_ms)

    @classmethod
    def deny(cls, reason: str = "") -> ApprovalAnswer:
        """Deny this call, optionally saying why."""
        return cls(approved=False, reason=reason)
