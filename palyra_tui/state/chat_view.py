"""What the runtime says about chat as a whole: runs in flight, offline drafts, names.

Apart from the rest of the runtime's API because the UI holds one from its
first frame, before the messages and the transcripts are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from palyra_tui.models.gateway import SessionSummary
from palyra_tui.state.drafts import OfflineDraft


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A chat run in flight."""

    run_id: str
    session_id: str
    aborting: bool = False


@dataclass(frozen=True, slots=True)
class ChatView:
    """Runs in flight, offline drafts, and the session names the runtime chose."""

    active: tuple[RunInfo, ...] = ()
    drafts: tuple[OfflineDraft, ...] = ()
    resending: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()

    def busy(self, session_id: str) -> bool:
        """True while a run of the session is in flight."""
        return any(run.session_id == session_id for run in self.active)

    def active_run_ids(self) -> frozenset[str]:
        """The runs in flight."""
        return frozenset(run.run_id for run in self.active)

    def drafts_for(self, session_id: str) -> tuple[OfflineDraft, ...]:
        """Drafts of one session (and those without a session), oldest first."""
        return tuple(d for d in self.drafts if d.session_id in ("", session_id))

    def unsent_drafts_for(self, session_id: str) -> tuple[OfflineDraft, ...]:
        """Drafts of the session that are not being resent right now."""
        return tuple(d for d in self.drafts_for(session_id) if d.draft_id not in self.resending)

    def name(self, session: SessionSummary) -> str:
        """The session's name: the gateway's title, unless it refused the runtime's rename."""
        return dict(self.names).get(session.session_id) or session.display_title
