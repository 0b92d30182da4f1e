"""What changed in a transcript since clients were last told: the new tail, or only the
text a streamed answer gained.

A token of a streamed answer is a few bytes; sending the whole answer again
for each one would cost every client the length of the answer per token.
"""

from __future__ import annotations

from dataclasses import replace

from palyra_tui.state.chat import AnswerItem, ChatItem
from palyra_tui.state.runtime_api import AnswerGrew, TranscriptChanged, TranscriptView


class TranscriptPublisher:
    """The last published view of each transcript, and the change to the next one."""

    def __init__(self) -> None:
        self._published: dict[str, TranscriptView] = {}

    def publish(
        self, session_id: str, items: tuple[ChatItem, ...]
    ) -> tuple[TranscriptView, AnswerGrew | TranscriptChanged | None]:
        """The transcript as published now, and the message that tells clients (None when
        nothing changed)."""
        published = self._published.get(session_id, TranscriptView(0))
        before = published.items
        pairs = enumerate(zip(before, items, strict=False))
        start = next((i for i, (old, new) in pairs if old is not new), min(len(before), len(items)))
        if start == len(items) and len(items) == len(before):
            return published, None
        revision = published.revision + 1
        view = self._published[session_id] = TranscriptView(revision, items)
        grown = _grown(before, items, start)
        if grown is not None:
            return view, AnswerGrew(session_id, start, grown.text, grown.final, revision)
        return view, TranscriptChanged(session_id, start, items[start:], len(items), revision)


def _grown(
    before: tuple[ChatItem, ...], items: tuple[ChatItem, ...], start: int
) -> AnswerItem | None:
    """The last item, when the whole change is text it gained (and perhaps its end)."""
    if len(before) != len(items) or start != len(items) - 1:
        return None
    old, new = before[start], items[start]
    if (
        isinstance(old, AnswerItem)
        and isinstance(new, AnswerItem)
        and old.run_id == new.run_id
        and not old.final
        and len(new.text) > len(old.text)
        and new.text.startswith(old.text)
    ):
        return replace(new, text=new.text[len(old.text) :])
    return None
