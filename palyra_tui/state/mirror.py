"""A client's copy of the transcripts it shows, kept in step with the runtime by revision.

Every change of a transcript carries the session's revision.  A copy applies
the change that follows what it holds, skips one it already has, and asks to
fetch the transcript again when one is missing.  Changes that arrive while a
fetch is on its way wait for it, so neither a change nor the fetched copy can
overwrite the other with something older.
"""

from __future__ import annotations

import enum
from dataclasses import replace

from palyra_tui.state.chat import AnswerItem, ChatItem
from palyra_tui.state.runtime_api import AnswerGrew, TranscriptChanged, TranscriptView

TranscriptMessage = TranscriptChanged | AnswerGrew


class Step(enum.Enum):
    """What a change did to the copy."""

    APPLIED = "applied"
    HELD = "held until the fetch lands"
    SKIPPED = "already in the copy, or not copied"
    MISSED = "an earlier change is missing: fetch again"


class TranscriptMirror:
    """The transcripts of the sessions one client opened."""

    def __init__(self) -> None:
        self._held: dict[str, TranscriptView] = {}
        self._waiting: dict[str, list[TranscriptMessage]] = {}

    def sessions(self) -> tuple[str, ...]:
        """Sessions copied, or being fetched."""
        return tuple(dict.fromkeys((*self._held, *self._waiting)))

    def items(self, session_id: str) -> tuple[ChatItem, ...]:
        """The copy of a session's transcript (empty if none)."""
        view = self._held.get(session_id)
        return view.items if view is not None else ()

    def revision(self, session_id: str) -> int | None:
        """The revision the copy holds (None if there is no copy)."""
        view = self._held.get(session_id)
        return view.revision if view is not None else None

    def expect(self, session_id: str) -> None:
        """A fetch of the session is on its way: hold its changes until it lands."""
        self._waiting.setdefault(session_id, [])

    def abandon(self, session_id: str) -> None:
        """The fetch failed: stop holding changes for it."""
        self._waiting.pop(session_id, None)

    def fill(self, session_id: str, view: TranscriptView) -> bool:
        """The fetched transcript, with the changes that arrived meanwhile on top.

        Returns False when one of those changes cannot follow (fetch again).
        """
        held = self._held.get(session_id)
        if held is None or held.revision <= view.revision:
            self._held[session_id] = view
        waiting = self._waiting.pop(session_id, [])
        return all(self.apply(change) is not Step.MISSED for change in waiting)

    def apply(self, change: TranscriptMessage) -> Step:
        """Apply one change from the runtime's feed."""
        session_id = change.session_id
        waiting = self._waiting.get(session_id)
        if waiting is not None:
            waiting.append(change)
            return Step.HELD
        held = self._held.get(session_id)
        if held is None or change.revision <= held.revision:
            return Step.SKIPPED
        if change.revision != held.revision + 1:
            return Step.MISSED
        items = _changed(held.items, change)
        if items is None:
            return Step.MISSED
        self._held[session_id] = TranscriptView(change.revision, items)
        return Step.APPLIED


def _changed(items: tuple[ChatItem, ...], change: TranscriptMessage) -> tuple[ChatItem, ...] | None:
    if isinstance(change, TranscriptChanged):
        if change.start > len(items):
            return None
        return (items[: change.start] + change.items)[: change.length]
    if change.index >= len(items):
        return None
    answer = items[change.index]
    if not isinstance(answer, AnswerItem):
        return None
    grown = replace(answer, text=answer.text + change.text, final=change.final)
    return (*items[: change.index], grown, *items[change.index + 1 :])
