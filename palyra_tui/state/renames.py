"""Sessions the runtime renamed, laid over the gateway's list until a poll has seen them.

A session is named after its first message at once, for every client; the
gateway's own list catches up at its next poll.  A poll that began before a
rename may bring the old name back after the new one went out; one that began
after it has seen it, and the rename is forgotten.
"""

from __future__ import annotations

from dataclasses import replace

from palyra_tui.models.gateway import SessionSummary
from palyra_tui.state.snapshot import AppSnapshot


class Renames:
    """Renames with the number of polls begun when each was made."""

    def __init__(self) -> None:
        self._polls = 0
        self._renames: dict[str, tuple[int, SessionSummary]] = {}

    def poll_begins(self) -> int:
        """Count a poll of the gateway that begins now; returns its number."""
        self._polls += 1
        return self._polls

    def renamed(self, session: SessionSummary) -> None:
        """``session`` has a new name the gateway's list may not show yet."""
        self._renames[session.session_id] = (self._polls, session)

    def apply(self, snapshot: AppSnapshot, begun: int | None = None) -> AppSnapshot:
        """``snapshot`` with the sessions renamed since the poll that collected it began
        (``begun``; None for the view itself, which then gains a session not listed yet)."""
        if begun is not None:
            self._renames = {k: v for k, v in self._renames.items() if v[0] >= begun}
        if not self._renames:
            return snapshot
        renamed = {session_id: session for session_id, (_, session) in self._renames.items()}
        sessions = [renamed.pop(s.session_id, s) for s in snapshot.sessions]
        if begun is None and renamed:
            sessions.extend(renamed.values())
            sessions.sort(key=lambda s: s.updated_at_ms, reverse=True)
        return replace(snapshot, sessions=tuple(sessions))
