"""Following the runtime: its messages become the app's shared state and its alerts.

Loaded once the first frame is drawn: the runtime's message types, the
transcripts and the approval inbox are nothing the first frame shows, and
importing them is a sixth of the control center's start.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from palyra_tui.errors import PalyraError
from palyra_tui.models import ServiceEvent, ServiceState
from palyra_tui.state.alerts import AlertKey
from palyra_tui.state.chat import ChatItem
from palyra_tui.state.inbox import InboxEntry
from palyra_tui.state.mirror import Step, TranscriptMirror
from palyra_tui.state.persisted import Place, Section
from palyra_tui.state.runtime_api import (
    AnswerGrew,
    ChatChanged,
    ClientsChanged,
    InboxChanged,
    LinkChanged,
    NotificationsChanged,
    OnboardingChanged,
    PlaceChanged,
    PreferencesChanged,
    ProfileChanged,
    RolloutChanged,
    RunFinished,
    RuntimeMessage,
    ServiceChanged,
    SnapshotChanged,
    StateNotice,
    TranscriptChanged,
)
from palyra_tui.state.snapshot import ConnectionState
from palyra_tui.ui.screens.chat import ChatPane
from palyra_tui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

CRASH_STATES = frozenset({ServiceState.BACKOFF, ServiceState.FAILED, ServiceState.EXITED})


class RuntimeFollower:
    """Applies one runtime's messages to one app, and mirrors the transcripts it opened."""

    def __init__(self, app: PalyraApp) -> None:
        self.app = app
        self.transcripts = TranscriptMirror()
        """What the runtime's transcripts hold, for the sessions this UI opened."""
        self.known_approvals: set[str] = set()
        """Approvals already announced (an approval is announced once)."""
        self.opened = False
        """True once the runtime has opened."""
        self.moved = False
        """True once the operator chose a pane or a session: a remembered place
        arriving later does not take them elsewhere."""
        self._place: Place | None = None
        self.returned = False
        """True once the remembered place was shown, or left alone."""

    async def follow(self) -> None:
        """Open the runtime and apply its messages as they come."""
        app = self.app
        feed = app.runtime.subscribe()
        try:
            try:
                await app.runtime.open()
            except PalyraError as error:
                if app.attached and not self.opened:
                    app.never_attached(error)
                else:
                    self.apply(LinkChanged(False, str(error)))
                return
            finally:
                app.mount_panes_once()
            first = not self.opened
            self.opened = True
            view = app.runtime.view()
            self.apply(ProfileChanged(view.profile, view.profiles))
            self.apply(SnapshotChanged(view.snapshot, view.dashboard_url))
            self.apply(InboxChanged(view.inbox))
            self.apply(ChatChanged(view.chat))
            self.apply(ClientsChanged(view.clients))
            self.apply(NotificationsChanged(view.notifications))
            if view.state_notice:
                self.apply(StateNotice(view.state_notice))
            self.apply(RolloutChanged(view.rollout))
            self.apply(PreferencesChanged(view.preferences))
            if first:
                self._place = view.place
                app.run_worker(self._return_to(view.place), exit_on_error=False)
            if view.onboarding is not None:
                self.apply(OnboardingChanged(view.onboarding))
            async for message in feed:
                self.apply(message)
        finally:
            feed.close()

    def apply(self, message: RuntimeMessage) -> None:
        """Make one message the app's state."""
        app = self.app
        if isinstance(message, SnapshotChanged):
            app.dashboard_url = message.dashboard_url
            app.snapshot = message.snapshot
            app.update_title()
        elif isinstance(message, InboxChanged):
            self.inbox_changed(message.inbox)
        elif isinstance(message, ChatChanged):
            app.chat = message.chat
            app.update_title()
        elif isinstance(message, TranscriptChanged | AnswerGrew):
            self._transcript_changed(message)
        elif isinstance(message, ServiceChanged):
            self.service_event(message.event)
        elif isinstance(message, RunFinished):
            self.run_finished(message.session_id, message.summary)
        elif isinstance(message, ClientsChanged):
            app.clients = message.clients
        elif isinstance(message, LinkChanged):
            self._link_changed(message)
        elif isinstance(message, StateNotice):
            if message.text:
                app.notify(message.text, severity="warning", markup=False, timeout=15)
        elif isinstance(message, PlaceChanged):
            self._place = message.place
        elif isinstance(message, NotificationsChanged):
            app.notifications = message.notifications
            app.update_title()
        elif isinstance(message, OnboardingChanged):
            app.onboarding = message.status
        elif isinstance(message, RolloutChanged):
            app.desktop_notifications = message.rollout.desktop_notifications_enabled
        elif isinstance(message, PreferencesChanged):
            app.preferences_changed(message.preferences)
        elif isinstance(message, ProfileChanged):
            app.profile = message.profile

    def _link_changed(self, change: LinkChanged) -> None:
        app = self.app
        if app.host_gone is not None and not change.connected:
            app.host_gone.set()
            return
        if change.connected:
            for session_id in self.transcripts.sessions():
                app.run_worker(self.open_transcript(session_id), exit_on_error=False)
            return
        app.link_lost = change.reason
        app.startup_error = f"runtime host lost: {change.reason}"
        if app.snapshot is not None:
            app.snapshot = replace(
                app.snapshot,
                connection=ConnectionState.OFFLINE,
                gateway_health=None,
                approvals=(),
            )
        app.inbox = ()
        app.clients = 0
        app.notify(f"runtime host lost: {change.reason}", severity="error", markup=False)
        app.push_screen(
            ConfirmScreen(
                f"The runtime host is gone ({change.reason}).\n"
                "Start a new one and attach to it? Its services were stopped with it.",
                clock=app.clock,
                confirm="Start a new host",
            ),
            app.restart_host,
        )

    async def _return_to(self, place: Place) -> None:
        """Show the pane and session the runtime remembers, unless the operator has
        already gone somewhere."""
        app = self.app
        try:
            if self.moved or not app.screen_stack:
                return
            await app.main.show_pane(place.section.value)
            chat = app.main.mounted_pane("chat")
            if place.section is Section.CHAT and place.session_id and isinstance(chat, ChatPane):
                chat.open_session(place.session_id)
        finally:
            self.returned = True

    def remember_place(self) -> None:
        """Tell the runtime which pane and session are on show, so a restart returns there."""
        app = self.app
        if not self.opened or not app.screen_stack:
            return
        chat = app.main.mounted_pane("chat")
        session_id = chat.session_id if isinstance(chat, ChatPane) else ""
        place = Place(Section(app.main.pane_name), session_id)
        if place == self._place:
            return
        self._place = place
        app.run_worker(app.runtime.remember_place(place), group="place", exit_on_error=False)

    async def open_transcript(self, session_id: str) -> tuple[ChatItem, ...]:
        """Start mirroring a session's transcript; returns what it holds now.

        Fetched again while a change that arrived meanwhile cannot follow the copy.
        """
        filled = False
        while not filled:
            self.transcripts.expect(session_id)
            try:
                view = await self.app.runtime.transcript(session_id)
            except BaseException:
                self.transcripts.abandon(session_id)
                raise
            filled = self.transcripts.fill(session_id, view)
        self._redraw_transcript(session_id)
        return self.transcripts.items(session_id)

    def inbox_changed(self, entries: tuple[InboxEntry, ...]) -> None:
        """A new inbox; approvals not seen before are announced unless Approvals is on show."""
        app = self.app
        new = [e for e in entries if e.approval_id not in self.known_approvals]
        self.known_approvals.update(e.approval_id for e in entries)
        app.inbox = entries
        app.update_title()
        if new and not app.showing("approvals"):
            first = new[0]
            more = f" (+{len(new) - 1} more)" if len(new) > 1 else ""
            app.alert(
                AlertKey(first.approval_id, "approval needed"),
                "Approval needed",
                f"{first.title}: {first.summary}{more}",
                "warning",
            )

    def _transcript_changed(self, change: TranscriptChanged | AnswerGrew) -> None:
        step = self.transcripts.apply(change)
        if step is Step.MISSED:
            self.app.run_worker(self.open_transcript(change.session_id), exit_on_error=False)
        elif step is Step.APPLIED:
            self._redraw_transcript(change.session_id)

    def _redraw_transcript(self, session_id: str) -> None:
        app = self.app
        chat = app.main.mounted_pane("chat") if app.screen_stack else None
        if isinstance(chat, ChatPane):
            chat.transcript_changed(session_id)

    def run_finished(self, session_id: str, summary: str) -> None:
        """Announce a finished run, unless its chat is on show."""
        pane = self.app.pane
        if isinstance(pane, ChatPane) and pane.session_id == session_id:
            return
        self.app.alert(AlertKey(session_id, "run finished"), "Run finished", summary, "information")

    def service_event(self, event: ServiceEvent) -> None:
        """Announce a crash, unless Health is on show."""
        crashed = event.exit is not None and not event.exit.success
        if crashed and event.state in CRASH_STATES and not self.app.showing("health"):
            assert event.exit is not None
            description = event.exit.description
            body = event.reason if description in event.reason else f"{description}; {event.reason}"
            self.app.alert(
                AlertKey(event.service, "ended"), f"{event.service} ended", body, "error"
            )
