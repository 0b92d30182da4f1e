"""Offline drafts: a message that could not be sent waits here until the operator resends it.

Never sent automatically (spec §4.5).  Unlike the desktop companion, a failed
resend updates the existing draft instead of adding a duplicate (spec §8.3
item 3), and the stored reason is sanitized (item 4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.ids import new_ulid
from palyra_tui.text import sanitize_line

MAX_DRAFTS = 20


@dataclass(frozen=True, slots=True)
class OfflineDraft:
    """A message kept for a later, explicit resend."""

    draft_id: str
    session_id: str
    text: str
    reason: str
    created_at: float


class Drafts:
    """At most 20 drafts, the oldest evicted first."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._drafts: list[OfflineDraft] = []

    def all(self) -> tuple[OfflineDraft, ...]:
        """Every draft, oldest first."""
        return tuple(self._drafts)

    def for_session(self, session_id: str) -> tuple[OfflineDraft, ...]:
        """Drafts of one session (and those without a session)."""
        return tuple(d for d in self._drafts if d.session_id in ("", session_id))

    def add(self, session_id: str, text: str, reason: str) -> OfflineDraft:
        """Keep ``text``; returns the draft."""
        draft = OfflineDraft(
            new_ulid(), session_id, text, sanitize_line(reason), self._clock.time()
        )
        self._drafts.append(draft)
        del self._drafts[:-MAX_DRAFTS]
        return draft

    def failed_again(self, draft_id: str, reason: str) -> None:
        """A resend failed: keep the one draft, with the new reason."""
        self._drafts = [
            replace(d, reason=sanitize_line(reason)) if d.draft_id == draft_id else d
            for d in self._drafts
        ]

    def remove(self, draft_id: str) -> None:
        """Forget a draft (sent or discarded)."""
        self._drafts = [d for d in self._drafts if d.draft_id != draft_id]
