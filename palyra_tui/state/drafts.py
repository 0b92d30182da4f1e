"""Offline drafts: a message that could not be sent waits here until the operator resends it.

Never sent automatically.  Unlike the desktop companion, a failed resend
updates the existing draft instead of adding a duplicate, the same message
failing again in the same session stays one draft (with the newest reason),
and the stored reason is sanitized.  Drafts outlive the process in the state
file (``state/persisted.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
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


def bounded_drafts(drafts: Iterable[OfflineDraft]) -> tuple[OfflineDraft, ...]:
    """Oldest first, one draft per session and text (the later one), the newest 20."""
    latest: dict[tuple[str, str], OfflineDraft] = {}
    for draft in drafts:
        key = (draft.session_id, draft.text)
        latest.pop(key, None)
        latest[key] = draft
    return tuple(latest.values())[-MAX_DRAFTS:]


class Drafts:
    """At most 20 drafts, the oldest evicted first."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._drafts: tuple[OfflineDraft, ...] = ()

    def all(self) -> tuple[OfflineDraft, ...]:
        """Every draft, oldest first."""
        return self._drafts

    def for_session(self, session_id: str) -> tuple[OfflineDraft, ...]:
        """Drafts of one session (and those without a session)."""
        return tuple(d for d in self._drafts if d.session_id in ("", session_id))

    def restore(self, drafts: Iterable[OfflineDraft]) -> None:
        """Hold ``drafts`` (kept from an earlier run), bounded and de-duplicated."""
        self._drafts = bounded_drafts(drafts)

    def add(self, session_id: str, text: str, reason: str) -> OfflineDraft:
        """Keep ``text``; returns the draft.

        The same text failing again in the same session updates the draft that holds
        it (same id, new reason and time) and makes it the newest.
        """
        now = round(self._clock.time(), 3)  # what the state file keeps: milliseconds
        same = next(
            (d for d in self._drafts if d.session_id == session_id and d.text == text), None
        )
        if same is None:
            draft = OfflineDraft(new_ulid(), session_id, text, sanitize_line(reason), now)
        else:
            draft = replace(same, reason=sanitize_line(reason), created_at=now)
        self._drafts = bounded_drafts((*self._drafts, draft))
        return draft

    def failed_again(self, draft_id: str, reason: str) -> None:
        """A resend failed: keep the one draft, with the new reason."""
        self._drafts = tuple(
            replace(d, reason=sanitize_line(reason)) if d.draft_id == draft_id else d
            for d in self._drafts
        )

    def remove(self, draft_id: str) -> None:
        """Forget a draft (sent or discarded)."""
        self._drafts = tuple(d for d in self._drafts if d.draft_id != draft_id)
