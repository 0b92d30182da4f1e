"""Screen 3: chat sessions, the transcript as it streams, and the composer.

Enter sends; Shift+Enter or Ctrl+J adds a line.  When the gateway cannot be
reached the message becomes an offline draft: nothing typed is lost, and a
draft is only sent again when the operator asks (Ctrl+R).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from palyra_tui.client.errors import ClientError
from palyra_tui.errors import PalyraError
from palyra_tui.models.gateway import SessionSummary
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.chat import (
    AnswerItem,
    ChatItem,
    StatusItem,
    ToolItem,
    UserItem,
    activity_label,
)
from palyra_tui.state.runtime_api import MessageNotSent
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.ui.safe import block, plain, pretty_json, reviewable
from palyra_tui.ui.screens.base import ControlPane, switch_keys
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.handoff import offer_dashboard
from palyra_tui.ui.widgets.steady import SteadyStatic
from palyra_tui.ui.widgets.transcript_view import TranscriptView

MAX_INPUT_LINES_IN_CHAT = 12


class Composer(TextArea):
    """A text area where Enter sends and Shift+Enter / Ctrl+J start a new line.

    Enter is handled in the composer's own key queue, after every character
    that arrived before it, so a burst such as ``text⏎`` (tmux, expect, a
    coalescing SSH link) sends exactly the text typed before the Enter, and
    clears only that.
    """

    class Send(Message):
        """The operator pressed Enter on some text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, refusal: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._refusal = refusal

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            self._stop(event)
            self.send()
        elif event.key in ("shift+enter", "ctrl+j"):
            self._stop(event)
            self.insert("\n")
        elif event.key == "escape":
            self._stop(event)
            self.screen.query_one("#sessions").focus()

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def send(self) -> None:
        """Hand the text to the screen and clear it, unless sending is refused now."""
        text = self.text
        if not text.strip():
            return
        refusal = self._refusal()
        if refusal:
            self.app.notify(refusal, severity="warning", markup=False)
            return
        self.clear()
        self.post_message(self.Send(text))


class ChatPane(ControlPane):
    """Talk to the agent; watch tools and approvals inline."""

    TITLE = "Chat"
    SWITCH_PREFIX = "alt+"
    BINDINGS = [
        *switch_keys(SWITCH_PREFIX),
        Binding("ctrl+n", "new_session", "New session", priority=True),
        Binding("ctrl+x", "abort", "Abort run", priority=True),
        Binding("ctrl+r", "resend", "Resend draft", priority=True),
        Binding("ctrl+d", "discard_draft", "Discard draft", show=False, priority=True),
        Binding("ctrl+l", "focus_sessions", "Sessions", show=False, priority=True),
        Binding("ctrl+t", "dashboard", "Open in dashboard", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            yield OptionList(id="sessions")
            with Vertical(id="conversation"):
                yield SteadyStatic(id="session-title")
                yield TranscriptView(id="transcript")
                yield SteadyStatic(id="drafts")
                yield Composer(
                    self._refusal,
                    id="composer",
                    soft_wrap=True,
                    show_line_numbers=False,
                    placeholder="Enter sends · Shift+Enter or Ctrl+J: new line · Esc: leave",
                )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session_id = ""
        self._session_labels: tuple[tuple[str, Text], ...] = ()
        self._composing: dict[str, str] = {}
        """What the operator had typed in each session they left."""

    def on_mount(self) -> None:
        self.watch(self.app, "chat", self._chat_view_changed, init=False)

    def focus_first(self) -> None:
        self.query_one(Composer).focus()

    def text_input(self) -> Composer:
        return self.query_one(Composer)

    def unsent_texts(self) -> int:
        """How many sessions have text typed in the composer and not sent (none while the
        pane is still being composed: a quit can come that early)."""
        current = sum(1 for composer in self.query(Composer) if composer.text.strip())
        return current + sum(1 for text in self._composing.values() if text.strip())

    def on_shown(self) -> None:
        self._chat_changed()
        transcript = self.query_one(TranscriptView)
        self.call_after_refresh(transcript.scroll_end, animate=False)

    # Sessions ------------------------------------------------------------------

    def show_snapshot(self, snapshot: AppSnapshot) -> None:
        sessions = self._sessions(snapshot)
        if not self.session_id and sessions:
            self._open(sessions[0].session_id)
        self._show_sessions(sessions)
        self._show_title(snapshot)

    def _show_sessions(self, sessions: tuple[SessionSummary, ...]) -> None:
        """Redraw the list when a name, state, activity or the open session changed."""
        now = self.control.clock.time()
        chat = self.control.chat
        labels = tuple(
            (s.session_id, _session_label(s, chat.name(s), now, self.session_id)) for s in sessions
        )
        if labels == self._session_labels:
            return
        self._session_labels = labels
        options = self.query_one("#sessions", OptionList)
        highlighted = options.highlighted
        chosen = options.get_option_at_index(highlighted).id if highlighted is not None else None
        options.clear_options()
        options.add_options([Option(label, id=session_id) for session_id, label in labels])
        ids = [session_id for session_id, _ in labels]
        if chosen in ids:
            options.highlighted = ids.index(chosen)

    @on(OptionList.OptionSelected, "#sessions")
    def _session_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.control.operator_moved()
            self._open(event.option.id)
            self.query_one(Composer).focus()

    def open_session(self, session_id: str) -> None:
        """Open ``session_id`` (the one a restart returns to, say)."""
        self._open(session_id)

    def _open(self, session_id: str) -> None:
        if session_id == self.session_id:
            return
        if self.session_id:
            composer = self.query_one(Composer)
            if composer.text:
                self._composing[self.session_id] = composer.text
            composer.load_text(self._composing.pop(session_id, ""))
            composer.move_cursor(composer.document.end)
        self.session_id = session_id
        self._chat_changed()
        self.control.place_changed()
        if self.control.snapshot is not None:
            self._show_sessions(self._sessions(self.control.snapshot))
        self.run_worker(self._load(session_id), group="chat-history", exit_on_error=False)

    async def _load(self, session_id: str) -> None:
        """Mirror the session's transcript; fill an empty one from the gateway's record."""
        try:
            items = await self.control.open_transcript(session_id)
            if not items:
                await self.control.runtime.load_history(session_id)
        except PalyraError as error:
            self.app.notify(f"history not loaded: {error}", severity="warning", markup=False)

    @staticmethod
    def _sessions(snapshot: AppSnapshot) -> tuple[SessionSummary, ...]:
        unique: dict[str, SessionSummary] = {}
        for session in snapshot.sessions:
            if session.session_id and session.session_id not in unique:
                unique[session.session_id] = session
        return tuple(unique.values())

    def action_new_session(self) -> None:
        self.control.operator_moved()

        async def create() -> None:
            try:
                session = await self.control.runtime.new_session()
            except ClientError as error:
                self.app.notify(str(error), severity="error", markup=False)
                return
            self._open(session.session_id)

        self.run_worker(create(), group="chat-session", exit_on_error=False)

    def action_dashboard(self) -> None:
        """Open the session (its run in flight, if any) in the web dashboard."""
        run = next((r for r in self.control.chat.active if r.session_id == self.session_id), None)
        if run is not None:
            scope = HandoffScope.run(self.session_id, run.run_id)
        elif self.session_id:
            scope = HandoffScope.chat(self.session_id)
        else:
            scope = HandoffScope.overview()
        offer_dashboard(self.control, scope)

    def action_focus_sessions(self) -> None:
        self.query_one("#sessions", OptionList).focus()

    # Sending -------------------------------------------------------------------

    def _refusal(self) -> str:
        """Why the composer cannot send now ("" when it can)."""
        return "" if self.session_id else "create a session first (Ctrl+N); your text stays here"

    @on(Composer.Send)
    def _send(self, event: Composer.Send) -> None:
        session_id, text = self.session_id, event.text

        async def send() -> None:
            try:
                await self.control.runtime.send(session_id, text)
            except MessageNotSent as refused:
                self._give_back(session_id, text)
                self.app.notify(
                    f"not sent: {refused}; the text is back in the composer",
                    severity="error",
                    markup=False,
                )

        self.run_worker(send(), group="chat-runs", exit_on_error=False)

    def _give_back(self, session_id: str, text: str) -> None:
        """Put a message the runtime refused back before what was typed since."""
        if session_id != self.session_id:
            later = self._composing.get(session_id, "")
            self._composing[session_id] = f"{text}\n{later}" if later else text
            return
        composer = self.query_one(Composer)
        later = composer.text
        composer.load_text(f"{text}\n{later}" if later else text)
        composer.move_cursor(composer.document.end)

    def action_abort(self) -> None:
        async def abort() -> None:
            try:
                if not await self.control.runtime.abort(self.session_id):
                    self.app.notify("no run in flight")
            except ClientError as error:
                self.app.notify(str(error), severity="error", markup=False)

        self.run_worker(abort(), group="chat-abort", exit_on_error=False)

    def action_resend(self) -> None:
        drafts = self.control.chat.unsent_drafts_for(self.session_id)
        if not drafts:
            self.app.notify("no draft to resend")
            return
        self.run_worker(
            self.control.runtime.resend(drafts[0].draft_id),
            group="chat-runs",
            exit_on_error=False,
        )

    def action_discard_draft(self) -> None:
        """Discard the oldest draft of the session, after a confirmation that quotes it."""
        drafts = self.control.chat.drafts_for(self.session_id)
        if not drafts:
            self.app.notify("no draft to discard")
            return
        draft = drafts[0]

        def discard(ok: bool | None) -> None:
            if ok:
                self.run_worker(
                    self.control.runtime.discard_draft(draft.draft_id), exit_on_error=False
                )

        self.app.push_screen(
            ConfirmScreen(
                f"Discard the draft “{draft.text[:120]}”? It is not sent and cannot be restored.",
                clock=self.control.clock,
                confirm="Discard",
            ),
            discard,
        )

    # Transcript ------------------------------------------------------------------

    def transcript_changed(self, session_id: str) -> None:
        """The runtime changed a transcript; redraw it if it is the one open."""
        if session_id == self.session_id:
            self._chat_changed()

    def _chat_view_changed(self) -> None:
        """Runs, drafts or names changed: cursors, the drafts box and the title may too."""
        self._chat_changed()

    def _chat_changed(self) -> None:
        if not self.session_id or not self.shown:
            return
        items = self.control.transcripts.items(self.session_id)
        active = self.control.chat.active_run_ids()
        self.query_one(TranscriptView).show(
            items,
            [_has_cursor(item, active) for item in items],
            lambda item: render_item(item, active),
        )
        self._show_drafts()
        if self.control.snapshot is not None:
            self._show_title(self.control.snapshot)

    def _show_drafts(self) -> None:
        drafts = self.control.chat.drafts_for(self.session_id)
        box = self.query_one("#drafts", SteadyStatic)
        if not drafts:
            box.update("")
            box.display = False
            return
        box.display = True
        text = Text()
        text.append(
            f"{len(drafts)} offline draft(s) — Ctrl+R resends, Ctrl+D discards\n",
            style="bold yellow",
        )
        for draft in drafts[:3]:
            text.append_text(plain(f"  “{draft.text[:60]}” ({draft.reason})", "yellow"))
            text.append("\n")
        box.update(text)

    def _show_title(self, snapshot: AppSnapshot) -> None:
        title = self.query_one("#session-title", SteadyStatic)
        session = next((s for s in snapshot.sessions if s.session_id == self.session_id), None)
        text = Text(no_wrap=True, overflow="ellipsis")
        if session is None and not self.session_id:
            text.append(" no session — Ctrl+N creates one", style="dim")
        else:
            chat = self.control.chat
            name = chat.name(session) if session is not None else self.session_id
            text.append_text(plain(f" {name}", "bold"))
            if chat.busy(self.session_id):
                text.append("  ● run in flight (Ctrl+X aborts)", style="bold cyan")
        title.update(text)


def _session_label(session: SessionSummary, name: str, now: float, open_id: str) -> Text:
    """One line of the session list: a mark for the open one, the name, state and activity."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▸ " if session.session_id == open_id else "  ", style="bold cyan")
    text.append_text(plain(name[:40], "bold"))
    if session.last_run_state:
        text.append_text(plain(f" · {session.last_run_state}", "dim"))
    activity = activity_label(session.last_activity_ms, now)
    if activity:
        text.append(f" · {activity}", style="dim")
    return text


def _has_cursor(item: ChatItem, active: frozenset[str]) -> bool:
    """True for an answer still streaming: unfinished, and its run in flight."""
    return isinstance(item, AnswerItem) and not item.final and item.run_id in active


def render_item(item: ChatItem, active: frozenset[str] = frozenset()) -> Text:
    """One transcript item as plain text (untrusted content is never markup).

    An unfinished answer shows a cursor only while its run (in ``active``) is in flight.
    """
    text = Text()
    if isinstance(item, UserItem):
        text.append("you › ", style="bold cyan")
        text.append_text(block(item.text))
    elif isinstance(item, AnswerItem):
        text.append("agent › ", style="bold green")
        text.append_text(block(item.text))
        if _has_cursor(item, active):
            text.append(" ▌", style="blink")
    elif isinstance(item, ToolItem):
        text.append("⚙ tool ", style="bold magenta")
        text.append_text(plain(item.tool_name, "bold"))
        text.append("\n")
        text.append_text(reviewable(pretty_json(item.input_json, MAX_INPUT_LINES_IN_CHAT)))
        if item.approval_pending:
            text.append("\n⚠ approval needed — F4 (alt+4) reviews it", style="bold reverse yellow")
        if item.decision:
            style = "green" if item.decision in ("approved", "allowed") else "red"
            text.append(f"\n{item.decision}", style=f"bold {style}")
            if item.reason:
                text.append_text(plain(f" ({item.reason})", style))
        if item.success is not None:
            text.append("\nresult: " if item.success else "\nerror: ", style="bold")
            text.append_text(reviewable(pretty_json(item.result, MAX_INPUT_LINES_IN_CHAT)))
    elif isinstance(item, StatusItem):
        text.append_text(plain(f"— {item.text}", "bold red" if item.failed else "dim"))
    return text
