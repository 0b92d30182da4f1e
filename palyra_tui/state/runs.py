"""Chat runs, approval decisions and offline drafts, independent of the UI.

The UI calls :meth:`RunManager.send` in a worker and redraws a transcript when
``on_change`` fires (once per event); ``on_inbox`` fires only when the stream
side of the inbox or the decided set changes, so streamed tokens never rebuild
the inbox.  Approvals that our runs receive enter the inbox here and
are answered on their own stream; other pending approvals go through the
console API.  Every decision is sent once.

A message counts as sent once the gateway acknowledged it (its first event).
One that never was (the gateway is down, hung, refuses the call, or the
operator aborted it first) leaves the transcript and waits as an offline
draft with the reason, so it never looks sent; a draft that was delivered on
resend is removed.  With offline drafts off (a rollout flag) such a message
is an error instead: :class:`MessageNotSent`, and nothing is kept.  A session
created here is named after the time, then renamed after its first delivered
message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from palyra_tui.client.errors import ClientError, GatewayUnreachable
from palyra_tui.client.grpc.gateway import FIRST_EVENT_TIMEOUT, IDLE_TIMEOUT
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.gateway import ApprovalAnswer, RunStatus, SessionSummary
from palyra_tui.models.ids import is_ulid
from palyra_tui.models.run_events import ApprovalRequestEvent, ApprovalResponseEvent, StatusEvent
from palyra_tui.state.chat import (
    REFUSED_PREFIX,
    ChatItem,
    Transcript,
    UserItem,
    history_items,
    refusal_sentence,
    time_label,
    title_from_message,
)
from palyra_tui.state.chat_view import ChatView, RunInfo
from palyra_tui.state.drafts import Drafts, OfflineDraft
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.inbox import InboxEntry, Route, from_stream
from palyra_tui.state.runtime_api import DecisionError, DecisionRefused, MessageNotSent
from palyra_tui.text import sanitize_line

if TYPE_CHECKING:
    from palyra_tui.client.grpc import RunConversation

ABORT_REASON = "aborted by the operator in palyra-tui"
SETTLE_TIMEOUT = 30.0
"""Seconds a profile switch waits for cut sends to keep their messages."""
ABORT_DENIAL = "the operator aborted the run"
_TERMINAL = (RunStatus.DONE, RunStatus.FAILED)
PROVIDER_ID_PROBLEM = REFUSED_PREFIX + "tool_approval_response.proposal_id must be a canonical ULID"


@dataclass
class ActiveRun:
    """A run in flight."""

    session_id: str
    conversation: RunConversation
    aborting: bool = False


class RunManager:
    """Owns transcripts, active runs, the stream side of the inbox and drafts."""

    def __init__(
        self,
        link: GatewayLink,
        *,
        on_change: Callable[[str], None],
        on_inbox: Callable[[], None],
        on_finished: Callable[[str, str], None] | None = None,
        on_renamed: Callable[[str, SessionSummary | None], None] | None = None,
        clock: Clock | None = None,
        first_event_timeout: float = FIRST_EVENT_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.link = link
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.drafts = Drafts(clock)
        self.drafts_enabled = True
        """Off: a message the gateway never took raises MessageNotSent instead of waiting."""
        self._on_change = on_change
        self._on_inbox = on_inbox
        self._on_finished = on_finished or (lambda _session, _summary: None)
        self._on_renamed = on_renamed or (lambda _session_id, _session: None)
        self._first_event_timeout = first_event_timeout
        self._idle_timeout = idle_timeout
        self._resending: set[str] = set()
        self.transcripts: dict[str, Transcript] = {}
        self.active: dict[str, ActiveRun] = {}
        self._stream: dict[str, tuple[InboxEntry, RunConversation, ApprovalRequestEvent]] = {}
        self.decided: set[str] = set()
        self._sent: dict[str, UserItem] = {}
        self._unnamed: set[str] = set()
        self._names: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending: set[asyncio.Task[Any]] = set()
        """The tasks sending a message now (each a client's call, or a CLI's)."""

    # Reading -------------------------------------------------------------------

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

    def session_name(self, session: SessionSummary) -> str:
        """The name to show for a session: the gateway's title, unless it refused our rename."""
        return self._names.get(session.session_id) or session.display_title

    def chat_view(self) -> ChatView:
        """Runs in flight, drafts and chosen names, as one value."""
        return ChatView(
            active=tuple(
                RunInfo(run_id, run.session_id, run.aborting) for run_id, run in self.active.items()
            ),
            drafts=self.drafts.all(),
            resending=tuple(sorted(self._resending)),
            names=tuple(sorted(self._names.items())),
        )

    def resending(self, draft_id: str) -> bool:
        """True while a draft is being sent again."""
        return draft_id in self._resending

    # Sessions ------------------------------------------------------------------

    async def new_session(self, target: str) -> SessionSummary:
        """Create a session named after the time ("chat 14:05"); renamed after its first message."""
        client = await self.link.grpc(target)
        resolved = await client.new_session(time_label(self._clock.time()))
        self._unnamed.add(resolved.session.session_id)
        return resolved.session

    async def load_history(self, http_base: str, session_id: str) -> bool:
        """Replace a session's transcript with the gateway's (False while a run is in flight,
        or when the transcript changed while the history was on its way).

        Raises ClientError when the console cannot be reached.
        """
        if not http_base:
            raise GatewayUnreachable("the gateway's console address is not known yet")
        http = await self.link.http(http_base)
        items = self.transcript(session_id).items
        before = list(items)
        record = await http.transcript(session_id)
        if self.session_busy(session_id) or items != before:
            return False
        items[:] = history_items(record.records, self._sent)
        self._on_change(session_id)
        return True

    async def _name_after(self, target: str, session_id: str, text: str) -> None:
        """Rename the session after its first message; ``on_renamed`` hears the gateway's
        answer (the session as renamed), or None when it refused and the name is ours."""
        title = title_from_message(text)
        if not title:
            return
        try:
            client = await self.link.grpc(target)
            resolved = await client.resolve_session(session_id=session_id, session_label=title)
        except ClientError:
            self._names[session_id] = title
            self._on_renamed(session_id, None)
            return
        self._on_renamed(session_id, resolved.session)

    # Sending -------------------------------------------------------------------

    async def send(
        self,
        target: str,
        session_id: str,
        text: str,
        draft_id: str = "",
        *,
        on_taken: Callable[[], None] | None = None,
    ) -> None:
        """Send ``text`` to the session; a message the gateway never took becomes a draft
        (with offline drafts off: raises MessageNotSent).

        ``on_taken`` is called once the gateway took the message.  A draft being
        resent cannot be resent twice at once; it is removed once the gateway
        took it, and otherwise kept (with the new reason).
        """
        if draft_id:
            if draft_id in self._resending:
                return
            self._resending.add(draft_id)
        task = asyncio.current_task()
        if task is not None:
            self._sending.add(task)
        try:
            if not target:
                self._keep_draft(session_id, text, "the gateway is not running", draft_id)
                return
            await self._run(target, session_id, text, draft_id, on_taken)
        finally:
            self._resending.discard(draft_id)
            if task is not None:
                self._sending.discard(task)

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the sends under way have ended (their streams were cut: each ends at
        once, keeping its message as a draft or recording its run's failure)."""
        sending = [task for task in self._sending if task is not asyncio.current_task()]
        if sending:
            await asyncio.wait(sending, timeout=timeout)

    async def resend(self, target: str, draft: OfflineDraft) -> None:
        """Send a draft again (only ever on the operator's word)."""
        await self.send(target, draft.session_id, draft.text, draft_id=draft.draft_id)

    async def _run(
        self,
        target: str,
        session_id: str,
        text: str,
        draft_id: str,
        on_taken: Callable[[], None] | None,
    ) -> None:
        transcript = self.transcript(session_id)
        try:
            client = await self.link.grpc(target)
        except ClientError as error:
            self._keep_draft(session_id, text, str(error), draft_id)
            return
        conversation = client.run(
            session_id,
            text,
            first_event_timeout=self._first_event_timeout,
            idle_timeout=self._idle_timeout,
        )
        user_item = UserItem(text=text, at=self._clock.time())
        transcript.items.append(user_item)
        self._on_change(session_id)
        run = ActiveRun(session_id, conversation)
        self.active[conversation.run_id] = run
        outcome = ""
        failure = ""
        try:
            async for event in conversation:
                if conversation.received == 1:
                    self._delivered(target, session_id, text, draft_id, user_item, conversation)
                    if on_taken is not None:
                        on_taken()
                if isinstance(event, ApprovalRequestEvent):
                    self._hold(event, session_id, conversation)
                elif isinstance(event, ApprovalResponseEvent):
                    self._stream.pop(event.approval_id, None)
                    self.decided.add(event.approval_id)
                    self._on_inbox()
                elif isinstance(event, StatusEvent) and event.status in _TERMINAL:
                    outcome = "aborted" if event.cancelled else event.status.value
                transcript.apply(event)
                self._on_change(session_id)
        except ClientError as error:
            failure = str(error)
        except Exception as error:  # the message must not be lost to a bug
            failure = sanitize_line(f"the run failed unexpectedly: {error!r}")
        finally:
            self.active.pop(conversation.run_id, None)
            self._drop_held(conversation)
            await conversation.close()
        if not conversation.received:
            reason = failure or "the gateway ended the call without taking the message"
            if run.aborting:
                reason = "you aborted it before the gateway took it"
            _remove_run(transcript, user_item, conversation.run_id)
            self._keep_draft(session_id, text, reason, draft_id)
            return
        if failure:
            transcript.add_status(conversation.run_id, failure, failed=True)
            outcome = "failed"
        self._on_change(session_id)
        if outcome:
            self._on_finished(session_id, f"run {outcome} in session {session_id}")

    def _delivered(
        self,
        target: str,
        session_id: str,
        text: str,
        draft_id: str,
        user_item: UserItem,
        conversation: RunConversation,
    ) -> None:
        """The gateway took the message: it is no longer a draft, and may name the session."""
        self._sent[conversation.run_id] = user_item
        if draft_id:
            self.drafts.remove(draft_id)
        if session_id in self._unnamed:
            self._unnamed.discard(session_id)
            self._spawn(self._name_after(target, session_id, text))

    def _hold(
        self, event: ApprovalRequestEvent, session_id: str, conversation: RunConversation
    ) -> None:
        """Put an approval our run received in the inbox, if the run can still answer it.

        One requested after the half-close cannot be: palyrad denies it at once.
        """
        if conversation.half_closed:
            return
        entry = from_stream(event, session_id, self._clock.time())
        self._stream[event.approval_id] = (entry, conversation, event)
        self._on_inbox()

    def _drop_held(self, conversation: RunConversation) -> list[ApprovalRequestEvent]:
        """Take a run's unanswered approvals out of the inbox; returns them."""
        held = [
            (approval_id, request)
            for approval_id, (_, owner, request) in self._stream.items()
            if owner is conversation
        ]
        for approval_id, _ in held:
            del self._stream[approval_id]
        if held:
            self._on_inbox()
        return [request for approval_id, request in held if approval_id not in self.decided]

    # Abort and decisions -------------------------------------------------------

    async def abort(self, session_id: str) -> bool:
        """Abort the session's run in flight; False when there is none.

        The transcript says "abort requested" at once, and the run's pending
        approvals leave the inbox and are denied on its stream (palyrad does not
        notice an abort while it waits for an answer).  If the gateway cannot
        take the abort (it hangs or is gone), the run is detached locally so
        that the session does not stay busy for ever.
        """
        run = next((r for r in self.active.values() if r.session_id == session_id), None)
        if run is None:
            return False
        if run.aborting:
            return True
        run.aborting = True
        conversation = run.conversation
        transcript = self.transcript(session_id)
        transcript.add_status(conversation.run_id, "abort requested")
        self._on_change(session_id)
        pending = self._drop_held(conversation)
        self.decided.update(request.approval_id for request in pending)
        try:
            await conversation.abort(ABORT_REASON)
        except ClientError as error:
            if conversation.run_id in self.active:
                transcript.add_status(
                    conversation.run_id,
                    f"detached: the gateway did not take the abort ({error})",
                    failed=True,
                )
                self._on_change(session_id)
            await conversation.close()
            return True
        for request in pending:
            try:
                await conversation.answer(request, ApprovalAnswer.deny(ABORT_DENIAL))
            except ClientError:
                continue
        return True

    async def decide(self, entry: InboxEntry, answer: ApprovalAnswer, http_base: str) -> None:
        """Send one decision; a second decision for the same approval is refused.

        Raises DecisionRefused after sending when palyrad is known to refuse it
        (the provider's tool call id is not a ULID): the call is denied.
        """
        if entry.approval_id in self.decided:
            raise DecisionError(f"approval {entry.approval_id} was already decided")
        self.decided.add(entry.approval_id)
        sent = False
        refusal = ""
        try:
            if entry.route is Route.STREAM:
                held = self._stream.get(entry.approval_id)
                if held is None:
                    raise DecisionError("the run that asked for this approval has ended")
                _, conversation, request = held
                if not is_ulid(request.proposal_id):
                    refusal = refusal_sentence(PROVIDER_ID_PROBLEM, request.proposal_id)
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
        if refusal:
            raise DecisionRefused(refusal)

    # Internals -------------------------------------------------------------------

    def _keep_draft(self, session_id: str, text: str, reason: str, draft_id: str) -> None:
        """Keep a message the gateway never took (a draft resent keeps its one draft)."""
        if draft_id:
            self.drafts.failed_again(draft_id, reason)
        elif self.drafts_enabled:
            self.drafts.add(session_id, text, reason)
        self._on_change(session_id)
        if not draft_id and not self.drafts_enabled:
            raise MessageNotSent(
                f"the message was not sent and offline drafts are off: {sanitize_line(reason)}"
            )

    async def forget(self) -> tuple[str, ...]:
        """Drop every run, transcript, approval and name (a profile switch: none of them
        belongs to the next profile's gateway); returns the sessions that had a transcript.
        The drafts are the caller's to replace."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sessions = tuple(self.transcripts)
        self.transcripts.clear()
        self.active.clear()
        self._stream.clear()
        self.decided.clear()
        self._sent.clear()
        self._unnamed.clear()
        self._names.clear()
        self._resending.clear()
        return sessions

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _remove_run(transcript: Transcript, user_item: ChatItem, run_id: str) -> None:
    """Take a message that was never sent, and its run's notes, out of a transcript."""
    transcript.items[:] = [
        item
        for item in transcript.items
        if item is not user_item and getattr(item, "run_id", None) != run_id
    ]
