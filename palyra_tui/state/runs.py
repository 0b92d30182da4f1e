"""Chat runs, approval decisions and offline drafts, independent of the UI.

The UI calls :meth:`RunManager.send` in a worker and redraws a transcript when
``on_change`` fires (once per event); ``on_inbox`` fires only when the stream
side of the inbox or the decided set changes, so streamed tokens never rebuild
the inbox.  Approvals that our runs receive enter the inbox here and
are answered on their own stream; other pending approvals go through the
console API.  Every decision is sent once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from palyra_tui.client.errors import ClientError, GatewayUnavailable, GatewayUnreachable
from palyra_tui.models.gateway import (
    ApprovalAnswer,
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunStatus,
    StatusEvent,
)
from palyra_tui.state.chat import ChatItem, Transcript
from palyra_tui.state.drafts import Drafts, OfflineDraft
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.inbox import InboxEntry, Route, from_stream

if TYPE_CHECKING:
    from palyra_tui.client.grpc import RunConversation

_OFFLINE_ERRORS = (GatewayUnreachable, GatewayUnavailable)
_TERMINAL = (RunStatus.DONE, RunStatus.FAILED)


@dataclass
class ActiveRun:
    """A run in flight."""

    session_id: str
    conversation: RunConversation


class DecisionError(Exception):
    """A decision could not be sent; the message says why."""


class RunManager:
    """Owns transcripts, active runs, the stream side of the inbox and drafts."""

    def __init__(
        self,
        link: GatewayLink,
        *,
        on_change: Callable[[str], None],
        on_inbox: Callable[[], None],
        on_finished: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.drafts = Drafts()
        self._on_change = on_change
        self._on_inbox = on_inbox
        self._on_finished = on_finished or (lambda _session, _summary: None)
        self._resending: set[str] = set()
        self._clock = clock
        self.transcripts: dict[str, Transcript] = {}
        self.active: dict[str, ActiveRun] = {}
        self._stream: dict[str, tuple[InboxEntry, RunConversation, ApprovalRequestEvent]] = {}
        self.decided: set[str] = set()

    def transcript(self, session_id: str) -> Transcript:
        """The transcript of a session (empty until something happens)."""
        return self.transcripts.setdefault(session_id, Transcript(session_id))

    def stream_entries(self) -> tuple[InboxEntry, ...]:
        """Approvals our runs received that nobody answered yet."""
        return tuple(
            entry for entry, _, _ in self._stream.values() if entry.approval_id not in self.decided
        )

    def session_busy(self, session_id: str) -> bool:
        """True while a run of the session is in flight."""
        return any(run.session_id == session_id for run in self.active.values())

    async def send(self, target: str, session_id: str, text: str, draft_id: str = "") -> None:
        """Send ``text`` to the session; an unreachable gateway turns it into a draft.

        A draft being resent is kept until its run succeeds: any failure leaves
        it in place (with the new reason), and it cannot be resent twice at once.
        """
        transcript = self.transcript(session_id)
        if draft_id:
            if draft_id in self._resending:
                return
            self._resending.add(draft_id)
        try:
            if not target:
                self._keep_draft(session_id, text, "the gateway is not running", draft_id)
                return
            await self._run(target, transcript, session_id, text, draft_id)
        finally:
            self._resending.discard(draft_id)

    async def _run(
        self, target: str, transcript: Transcript, session_id: str, text: str, draft_id: str
    ) -> None:
        client = await self.link.grpc(target)
        conversation = client.run(session_id, text)
        user_item = transcript.items[transcript.add_user(text)]
        self._on_change(session_id)
        self.active[conversation.run_id] = ActiveRun(session_id, conversation)
        received = 0
        outcome = ""
        try:
            async for event in conversation:
                received += 1
                if isinstance(event, ApprovalRequestEvent):
                    entry = from_stream(event, session_id, self._clock())
                    self._stream[event.approval_id] = (entry, conversation, event)
                    self._on_inbox()
                elif isinstance(event, ApprovalResponseEvent):
                    self._stream.pop(event.approval_id, None)
                    self.decided.add(event.approval_id)
                    self._on_inbox()
                elif isinstance(event, StatusEvent) and event.status in _TERMINAL:
                    outcome = "aborted" if event.cancelled else event.status.value
                transcript.apply(event)
                self._on_change(session_id)
        except ClientError as error:
            if received == 0 and isinstance(error, _OFFLINE_ERRORS):
                _remove(transcript, user_item)
                self._keep_draft(session_id, text, str(error), draft_id)
            else:
                transcript.add_status(conversation.run_id, str(error), failed=True)
                if draft_id:
                    self.drafts.failed_again(draft_id, str(error))
                outcome = "failed"
        else:
            if draft_id:
                self.drafts.remove(draft_id)
        finally:
            self.active.pop(conversation.run_id, None)
            orphans = [key for key, (_, owner, _) in self._stream.items() if owner is conversation]
            for approval_id in orphans:
                del self._stream[approval_id]
            if orphans:
                self._on_inbox()
            await conversation.close()
            self._on_change(session_id)
        if outcome:
            self._on_finished(session_id, f"run {outcome} in session {session_id}")

    async def resend(self, target: str, draft: OfflineDraft) -> None:
        """Send a draft again (only ever on the operator's word)."""
        await self.send(target, draft.session_id, draft.text, draft_id=draft.draft_id)

    def resending(self, draft_id: str) -> bool:
        """True while a draft is being sent again."""
        return draft_id in self._resending

    async def abort(self, session_id: str) -> bool:
        """Abort the session's run in flight; False when there is none.

        If the gateway cannot take the abort (it hangs or is gone), the run is
        detached locally so that the session does not stay busy for ever.
        """
        for run in list(self.active.values()):
            if run.session_id != session_id:
                continue
            try:
                await run.conversation.abort("aborted by the operator in palyra-tui")
            except ClientError as error:
                transcript = self.transcript(session_id)
                transcript.add_status(
                    run.conversation.run_id,
                    f"detached: the gateway did not take the abort ({error})",
                    failed=True,
                )
                await run.conversation.close()
                self._on_change(session_id)
            return True
        return False

    async def decide(self, entry: InboxEntry, answer: ApprovalAnswer, http_base: str) -> None:
        """Send one decision; a second decision for the same approval is refused."""
        if entry.approval_id in self.decided:
            raise DecisionError(f"approval {entry.approval_id} was already decided")
        self.decided.add(entry.approval_id)
        sent = False
        try:
            if entry.route is Route.STREAM:
                held = self._stream.get(entry.approval_id)
                if held is None:
                    raise DecisionError("the run that asked for this approval has ended")
                _, conversation, request = held
                await conversation.answer(request, answer)
            else:
                if not http_base:
                    raise DecisionError("the gateway's console address is unknown")
                http = await self.link.http(http_base)
                await http.decide_approval(entry.approval_id, answer)
            sent = True
        finally:
            if not sent:
                self.decided.discard(entry.approval_id)
            self._on_inbox()

    def _keep_draft(self, session_id: str, text: str, reason: str, draft_id: str) -> None:
        if draft_id:
            self.drafts.failed_again(draft_id, reason)
        else:
            self.drafts.add(session_id, text, reason)
        self._on_change(session_id)


def _remove(transcript: Transcript, item: ChatItem) -> None:
    """Take one item out of a transcript by identity (others may have followed it)."""
    for index, candidate in enumerate(transcript.items):
        if candidate is item:
            del transcript.items[index]
            return
