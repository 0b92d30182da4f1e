"""The dashboard handoff: a one-time URL that signs a browser into palyrad's web console.

The URL carries a token that works once, for 60 seconds, and only in a browser
on the gateway's own host: palyrad always names ``127.0.0.1`` in it.  The token
is a credential, so a :class:`Handoff` never shows its URL in a repr, and no
log, notice, snapshot or state file holds one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HANDOFF_TTL = 60.0
"""Seconds a handoff token works (palyrad's fixed TTL)."""


class HandoffSection(enum.Enum):
    """What the dashboard opens on."""

    OVERVIEW = "overview"
    CHAT = "chat"
    APPROVALS = "approvals"
    RUN = "run"


@dataclass(frozen=True, slots=True)
class HandoffScope:
    """Where in the dashboard a handoff lands: the overview, a chat session, an approval,
    or a run of a session."""

    section: HandoffSection = HandoffSection.OVERVIEW
    session_id: str = ""
    run_id: str = ""
    approval_id: str = ""

    @classmethod
    def overview(cls) -> HandoffScope:
        """The dashboard's overview."""
        return cls()

    @classmethod
    def chat(cls, session_id: str) -> HandoffScope:
        """One chat session."""
        return cls(HandoffSection.CHAT, session_id=session_id)

    @classmethod
    def approval(cls, approval_id: str) -> HandoffScope:
        """The approvals, on the session and run of one approval."""
        return cls(HandoffSection.APPROVALS, approval_id=approval_id)

    @classmethod
    def approvals(cls) -> HandoffScope:
        """The approvals, none in particular."""
        return cls(HandoffSection.APPROVALS)

    @classmethod
    def run(cls, session_id: str, run_id: str) -> HandoffScope:
        """One run of a chat session."""
        return cls(HandoffSection.RUN, session_id=session_id, run_id=run_id)

    def describe(self) -> str:
        """A few words for the operator: "the overview", "chat session 01J…"."""
        if self.section is HandoffSection.CHAT:
            return f"chat session {self.session_id}"
        if self.section is HandoffSection.APPROVALS:
            return f"approval {self.approval_id}" if self.approval_id else "the approvals"
        if self.section is HandoffSection.RUN:
            return f"run {self.run_id}"
        return "the overview"


@dataclass(frozen=True, slots=True)
class Handoff:
    """A one-time dashboard URL, when it stops working (wall clock, seconds since the
    epoch), the dashboard path it leads to, and the scope it was asked for."""

    url: str = field(repr=False)
    expires_at: float
    redirect_path: str
    scope: HandoffScope = field(default_factory=HandoffScope)
    one_time: bool = True
    """False for a remote profile's dashboard: its address as it is, without a sign-in
    token (the dashboard asks the operator to sign in), which does not expire."""

    def remaining(self, now: float) -> float:
        """Seconds left at ``now`` (0 once expired; a link that is not one-time never is)."""
        if not self.one_time:
            return HANDOFF_TTL
        return max(0.0, self.expires_at - now)


def check_openable(url: str) -> str:
    """``url`` if a browser may be sent to it, else ValueError with the reason.

    It must be an absolute http or https URL without embedded credentials, in
    printable ASCII: nothing in it can end an OSC 8 link or reach a terminal as
    a control character.
    """
    if not url or any(not "!" <= char <= "~" for char in url):
        raise ValueError("dashboard browser open requires a valid absolute URL")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise ValueError("dashboard browser open requires a valid absolute URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("dashboard browser open only supports http:// and https:// URLs")
    if not host:
        raise ValueError("dashboard browser open requires a valid absolute URL")
    if "@" in parts.netloc:
        raise ValueError("dashboard browser open URL must not include embedded credentials")
    return url
