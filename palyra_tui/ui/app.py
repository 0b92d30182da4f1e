"""The control center: wiring of screens to one runtime, and the notifications.

Screens own their widgets, keys and handlers and command the runtime through
:class:`~palyra_tui.state.runtime_api.RuntimeApi`.  This module keeps what the
screens share: the snapshot, the approval inbox and the chat view (reactives
the screens watch), and the notices; :mod:`palyra_tui.ui.follow` makes the
runtime's messages into them.  What the first frame does not show is imported
after it: the runtime's messages, the other panes, the link to a host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from palyra_tui.errors import PalyraError
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.state.alerts import AlertKey, AlertLimiter
from palyra_tui.state.chat_view import ChatView
from palyra_tui.state.profiles import ProfileInfo
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.text import sanitize_line
from palyra_tui.ui import notify
from palyra_tui.ui.collector import CollectorPacing
from palyra_tui.ui.frame_handoff import FrameHandoff
from palyra_tui.ui.keyguard import KeyGuard
from palyra_tui.ui.leaving import Leaving
from palyra_tui.ui.palette import palette_commands
from palyra_tui.ui.screens.base import ControlPane
from palyra_tui.ui.screens.main import MainScreen
from palyra_tui.ui.screens.pager import PagerScreen
from palyra_tui.ui.shown_preferences import ShownPreferences
from palyra_tui.ui.widgets.status_bar import Notice, StatusFacts

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from palyra_tui.state.chat import ChatItem
    from palyra_tui.state.inbox import InboxEntry
    from palyra_tui.state.mirror import TranscriptMirror
    from palyra_tui.state.onboarding import OnboardingStatus
    from palyra_tui.state.persisted import Notification, Preferences
    from palyra_tui.state.runtime_api import RuntimeApi
    from palyra_tui.ui.browser import Browser
    from palyra_tui.ui.follow import RuntimeFollower

NOTICE_HISTORY = 50
TYPING_HINT_EVERY = 5.0
"""Seconds between two notices that keys were taken for typed text."""
RESTART_HOST = 75
"""The app's return code when the operator asked for a new runtime host."""


class PalyraApp(App[None]):
    """Health, logs, chat and approvals for one Palyra runtime."""

    TITLE = "Palyra"
    CSS_PATH = [
        "styles/base.tcss",
        "styles/health.tcss",
        "styles/logs.tcss",
        "styles/chat.tcss",
        "styles/approvals.tcss",
        "styles/onboarding.tcss",
    ]
    BINDINGS = [
        Binding("f1", "show_pane('health')", "Health", show=False, priority=True),
        Binding("f2", "show_pane('logs')", "Logs", show=False, priority=True),
        Binding("f3", "show_pane('chat')", "Chat", show=False, priority=True),
        Binding("f4", "show_pane('approvals')", "Approvals", show=False, priority=True),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys"),
        Binding("ctrl+g", "toggle_keys", "Keys", show=False, priority=True),
        Binding("ctrl+q", "quit_app", "Quit", id="app.quit", priority=True),
        Binding("q", "quit_app", "Quit", show=False),
        Binding("f10", "stop_runtime", "Stop all and quit", show=False, priority=True),
        Binding("ctrl+o", "toggle_notifications", "Notifications", show=False),
        Binding("f5", "show_notifications", "Notifications", show=False, priority=True),
        Binding("f6", "show_onboarding", "Onboarding", show=False),
        Binding("f7", "switch_profile", "Switch profile…", show=False),
        Binding("f8", "export_bundle", "Export support bundle", show=False),
        Binding("f9", "show_devices", "Devices", show=False),
    ]

    snapshot: var[AppSnapshot | None] = var(None)
    """The latest snapshot of services and gateway facts; screens watch it."""
    inbox: var[tuple[InboxEntry, ...]] = var(())
    """Pending approvals, ours first."""
    chat: var[ChatView] = var(ChatView())
    """Runs in flight, offline drafts and session names."""
    clients: var[int] = var(0)
    """Clients attached to the runtime host, this one included."""
    link_lost: var[str] = var("")
    """Why the link to the runtime host ended ("" while it holds)."""
    notice: var[Notice | None] = var(None)
    """The newest notice, shown in the screen's key line until it expires."""
    notifications: var[tuple[Notification, ...]] = var(())
    """What the runtime told the operator and kept, read or not, oldest first."""
    onboarding: var[OnboardingStatus | None] = var(None)
    """Where onboarding stands (None until the runtime said)."""
    profile: var[ProfileInfo] = var(ProfileInfo())
    """The runtime's active profile (the header names it)."""

    def __init__(
        self,
        runtime: RuntimeApi | Callable[[], RuntimeApi],
        *,
        owns_services: bool = True,
        attached: bool = False,
        start_services: bool = False,
        notifications: bool = True,
        startup_error: str = "",
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        onboarding_at_start: bool = False,
    ) -> None:
        """``onboarding_at_start``: show onboarding first while it is not complete."""
        super().__init__()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        """The environment the terminal side reads (``SSH_CONNECTION``, ``USER``)."""
        self.browser_finder: Callable[[], Browser | None] | None = None
        """Finds this machine's graphical browser (blocking; None: the system's default)."""
        self.keys = KeyGuard(self.clock)
        self.collector = CollectorPacing(self.clock)
        self.frame_handoff = FrameHandoff()
        self._typing_hint_at = float("-inf")
        self._alerts = AlertLimiter(self.clock)
        self._notice_timer: Timer | None = None
        self.notice_history: deque[Notice] = deque(maxlen=NOTICE_HISTORY)
        """The latest notices, newest last."""
        self._runtime: RuntimeApi | None = None
        self._connect: Callable[[], RuntimeApi] | None = None
        if callable(runtime):
            self._connect = runtime
        else:
            self._runtime = runtime
        self._follower: RuntimeFollower | None = None
        self.owns_services = owns_services
        self.attached = attached
        """The runtime is a host process: quitting detaches, and the services go on."""
        self.outcome = ""
        """What the launcher says when the app has ended (detached, host lost)."""
        self.open_error: PalyraError | None = None
        """Why an attached app never reached its runtime host: it has ended, and the
        launcher shows the reason."""
        self._start_services = start_services
        self.terminal_notifications = notifications
        """Alerts also go to the terminal (OSC 9 and the like); Ctrl+O turns them off.  The
        operator's preference, kept by the runtime, replaces it once the runtime says."""
        self.desktop_notifications = True
        """The rollout flag ``desktop_notifications_enabled``: off, no alert reaches the
        terminal (bell or OSC), whatever the preference says."""
        self.default_theme = self.theme
        """The theme shown when the operator chose none, or chose one this version lacks."""
        self.shown_preferences = ShownPreferences(self)
        self.startup_error = startup_error
        self.dashboard_url = ""
        """The gateway's console address, once known."""
        self.exiting = False
        """True once the app is ending on purpose: a link that ends then is no news."""
        self.leaving = Leaving(self)
        self._panes_mounting = False
        """The hidden panes mount once the runtime is open: they read its service names
        and log budgets."""
        self.host_gone: asyncio.Event | None = None
        """Set once the host this app asked to stop has gone."""
        self._onboarding_at_start = onboarding_at_start

    @property
    def runtime(self) -> RuntimeApi:
        """The runtime; one given as a factory (a link to a host) is built on first use,
        which is after the first frame unless a key needs it sooner."""
        if self._runtime is None:
            assert self._connect is not None
            self._runtime = self._connect()
        return self._runtime

    @property
    def follower(self) -> RuntimeFollower:
        """What applies the runtime's messages (imported on first use)."""
        if self._follower is None:
            from palyra_tui.ui.follow import RuntimeFollower

            self._follower = RuntimeFollower(self)
        return self._follower

    @property
    def transcripts(self) -> TranscriptMirror:
        """What the runtime's transcripts hold, for the sessions this UI opened."""
        return self.follower.transcripts

    # Lifecycle ---------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        """The screen that holds the panes (under any dialog)."""
        main = self.screen_stack[0] if self.screen_stack else None
        assert isinstance(main, MainScreen)
        return main

    @property
    def pane(self) -> ControlPane | None:
        """The pane on screen, if the app is running."""
        if not self.screen_stack or not isinstance(self.screen_stack[0], MainScreen):
            return None
        return self.screen_stack[0].pane_if_mounted()

    async def action_show_pane(self, name: str) -> None:
        """Show Health, Logs, Chat or Approvals; not under an open dialog, which
        would stay open over a pane it was not asked about."""
        if len(self.screen_stack) > 1:
            self.notify("answer or close the dialog first (Esc closes it)", timeout=2)
            return
        self.operator_moved()
        await self.main.show_pane(name)

    def operator_moved(self) -> None:
        """The operator chose a pane or a session: a remembered place no longer applies."""
        self.follower.moved = True

    def place_changed(self) -> None:
        """The pane or the open session changed: the runtime remembers it for a restart."""
        if self._follower is not None:
            self._follower.remember_place()

    def on_mount(self) -> None:
        self.frame_handoff.install()
        self.theme_changed_signal.subscribe(self, self.shown_preferences.theme_chosen)
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What may be slow starts only once the first frame is on the terminal."""
        self.collector.install()
        self.set_interval(1.0, self.collector.tick, name="full collections")
        self.follow_runtime()
        if self._start_services:
            self.run_worker(self.runtime.start_all(), group="start", exit_on_error=False)

    async def on_unmount(self) -> None:
        self.exiting = True
        self.collector.uninstall()
        self.frame_handoff.uninstall()
        if self._runtime is not None:
            await self._runtime.close()

    @work(exclusive=True, group="runtime", exit_on_error=False, description="runtime messages")
    async def follow_runtime(self) -> None:
        """Attach to the runtime and apply its messages as they come."""
        await self.follower.follow()

    def mount_panes_once(self) -> None:
        """Mount the hidden panes after the next frame, once: they read the runtime's
        service names and log budgets, so they wait for it to open."""
        if not self._panes_mounting:
            self._panes_mounting = True
            self.call_after_refresh(self.main.mount_panes)

    def never_attached(self, error: PalyraError) -> None:
        """End an attached app whose host could not be reached: the launcher shows why."""
        self.open_error = error
        self.exiting = True
        self.exit()

    def showing(self, name: str) -> bool:
        """True while the pane ``name`` is the one on screen."""
        pane = self.pane
        return pane is not None and pane.id == name

    def restart_host(self, confirmed: bool | None) -> None:
        """End the app so that the launcher starts a new host and attaches to it."""
        if confirmed:
            self.exiting = True
            self.exit(return_code=RESTART_HOST)

    def request_refresh(self) -> None:
        """Ask the runtime for fresh gateway facts now."""
        self.runtime.refresh()

    async def open_transcript(self, session_id: str) -> tuple[ChatItem, ...]:
        """Start mirroring a session's transcript; returns what it holds now."""
        return await self.follower.open_transcript(session_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "runtime" or self.exiting or self.link_lost:
            return
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS):
            reason = event.worker.error or "the runtime ended the feed"
            self.notify(
                sanitize_line(f"runtime link restarted after: {reason}"),
                severity="warning",
                markup=False,
            )
            self.follow_runtime()

    async def on_event(self, event: events.Event) -> None:
        """Screen every key before Textual dispatches it (see :mod:`palyra_tui.ui.keyguard`).

        On the Chat screen every printable key belongs to the composer, wherever
        focus was.  Elsewhere, a printable key that is a hotkey of the screen is
        dropped while the operator is typing text.
        """
        if isinstance(event, events.Key | events.MouseDown):
            self.collector.input_seen()
        if isinstance(event, events.Key) and not event.is_forwarded and event.is_printable:
            if _takes_text(self.focused):
                self.keys.entered()
            elif not self._admit(event):
                return
        await super().on_event(event)

    def _admit(self, event: events.Key) -> bool:
        screen = self.screen
        pane = self.pane
        text_input = pane.text_input() if pane is not None and screen is self.main else None
        if text_input is not None:
            self.keys.admit(hotkey=False)
            screen.set_focus(text_input)
            return True
        if self.keys.admit(hotkey=event.key in screen.active_bindings):
            return True
        now = self.clock.monotonic()
        if now - self._typing_hint_at < TYPING_HINT_EVERY:
            return False
        self._typing_hint_at = now
        self.notify(
            f"“{event.character}” ignored: it looks like typed text, not a key command",
            severity="warning",
            markup=False,
            timeout=2,
        )
        return False

    # Shared state ----------------------------------------------------------

    def status_facts(self) -> StatusFacts | None:
        """What the status bar and the terminal title say."""
        snapshot = self.snapshot
        if snapshot is None:
            return None
        error = self.startup_error or (snapshot.errors[0].message if snapshot.errors else "")
        if self.link_lost:
            error = f"runtime host lost: {self.link_lost}"
        return StatusFacts(
            connection=snapshot.connection,
            overall=snapshot.overall,
            approvals=len(self.inbox),
            active_runs=len(self.chat.active),
            drafts=len(self.chat.drafts),
            error=error,
            clients=self.clients if self.attached else 0,
            unread=sum(1 for n in self.notifications if not n.read),
        )

    def alert(self, key: AlertKey, title: str, body: str, severity: str = "information") -> None:
        """A notice and, unless turned off, a terminal notification: one per key and window."""
        held = self._alerts.admit(key)
        if held is None:
            return
        if held:
            body += f" ({held} similar alert{'s' if held != 1 else ''} held back)"
        message = sanitize_line(f"{title}: {body}")
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
        allowed = self.terminal_notifications and self.desktop_notifications
        if allowed and self._driver is not None:
            with contextlib.suppress(Exception):
                self._driver.write(notify.notification_sequence(title, body))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notice in the key line at the bottom, never as a floating toast:
        toasts would cover the composer and the approval detail."""
        text = f"{title}: {message}" if title else message
        notice = Notice(sanitize_line(text), severity)
        self.notice = notice
        self.notice_history.append(notice)
        if self._notice_timer is not None:
            self._notice_timer.stop()
        if timeout is None:
            timeout = self.NOTIFICATION_TIMEOUT * (3 if severity == "error" else 1)
        self._notice_timer = self.set_timer(timeout, self._clear_notice)

    def _clear_notice(self) -> None:
        self.notice = None

    def update_title(self) -> None:
        """Keep the subtitle and the terminal's title on the status facts."""
        facts = self.status_facts()
        if facts is None:
            return
        title = facts.title()
        if title != self.sub_title:
            self.sub_title = title
            if self._driver is not None:
                with contextlib.suppress(Exception):
                    self._driver.write(notify.title_sequence(title))

    # Actions -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette offers the actions of the pane it was opened from, and
        Textual's own commands but its Quit (ours asks first)."""
        return palette_commands(self, screen, super().get_system_commands(screen))

    async def run_chosen(self, action: str, node: DOMNode) -> None:
        """Run a command picked in the palette: what was typed there to find it is no
        typed text aimed at the screen, so a key that must stand alone still acts."""
        self.keys.chosen()
        await self.run_action(action, node)

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies in the composer); say which key does."""
        self.notify("Ctrl+Q quits (it asks first)", markup=False)

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_show_notifications(self) -> None:
        """The runtime's notifications, to read and mark read (F5 again closes them)."""
        if self.screen_stack and type(self.screen).__name__ == "NotificationsScreen":
            return
        from palyra_tui.ui.screens.notifications import NotificationsScreen

        self.push_screen(NotificationsScreen())

    def watch_onboarding(self, status: OnboardingStatus | None) -> None:
        """Show onboarding once at start, while the runtime does not work yet."""
        if status is None or not self._onboarding_at_start:
            return
        self._onboarding_at_start = False
        from palyra_tui.state.onboarding import opens_first

        if opens_first(status) and len(self.screen_stack) == 1:
            self.run_worker(self.action_show_onboarding(), exit_on_error=False)

    def action_open_dashboard(self) -> None:
        """The dashboard's overview, signed in (onboarding's dashboard step uses it)."""
        from palyra_tui.models.handoff import HandoffScope
        from palyra_tui.ui.screens.handoff import offer_dashboard

        offer_dashboard(self, HandoffScope.overview())

    async def action_show_onboarding(self) -> None:
        """Onboarding over the control center (F6, or the palette)."""
        from palyra_tui.ui.screens.onboarding import NAME, OnboardingScreen

        if isinstance(self.screen, OnboardingScreen):
            return
        if len(self.screen_stack) > 1:
            self.notify("answer or close the dialog first (Esc closes it)", timeout=2)
            return
        if not self.is_screen_installed(NAME):
            self.install_screen(OnboardingScreen(), NAME)
        await self.push_screen(NAME)

    def action_switch_profile(self) -> None:
        """Pick another profile (F7, or the palette); it asks before it switches."""
        if len(self.screen_stack) > 1:
            self.notify("answer or close the dialog first (Esc closes it)", timeout=2)
            return
        from palyra_tui.ui.screens.profiles import offer_switch

        offer_switch(self)

    async def action_show_devices(self) -> None:
        """The gateway's devices, on Health (F9, or the palette); F9 on Health hides them."""
        if len(self.screen_stack) > 1:
            self.notify("answer or close the dialog first (Esc closes it)", timeout=2)
            return
        from palyra_tui.ui.screens.health import HealthPane

        elsewhere = not self.showing("health")
        if elsewhere:
            await self.action_show_pane("health")
        health = self.pane
        if isinstance(health, HealthPane):
            health.show_devices(elsewhere or not health.devices_shown)

    def action_export_bundle(self) -> None:
        """Have the runtime write a support bundle (F8, or the palette); the key line says
        where it is."""
        from palyra_tui.ui.bundle import export_bundle

        export_bundle(self)

    def action_show_notices(self) -> None:
        """Every recent notice, whole, newest first: the key line shows one, cut to fit."""
        text = Text()
        for notice in reversed(self.notice_history):
            text.append(f"{notice.severity:<12}", style="dim")
            text.append(notice.text + "\n")
        if not self.notice_history:
            text.append("no notices yet", style="dim")
        self.push_screen(PagerScreen("Recent notices", text))

    def action_toggle_notifications(self) -> None:
        """Terminal notifications on or off, for every UI of the runtime and the next start."""
        self.shown_preferences.toggle_notifications()

    def preferences_changed(self, preferences: Preferences) -> None:
        """Show what the operator's kept preferences say (see :class:`ShownPreferences`)."""
        self.shown_preferences.changed(preferences)

    def action_quit_app(self) -> None:
        """Detach, or quit (see :meth:`Leaving.quit`)."""
        self.leaving.quit()

    def action_stop_runtime(self) -> None:
        """Stop every service and the runtime host, then quit (asks first)."""
        self.leaving.stop_runtime()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def stop_and_exit(self) -> None:
        """Stop every service cleanly (and a runtime host with them), then leave."""
        await self.leaving.stop_everything()


def _takes_text(widget: Widget | None) -> bool:
    """True for a widget that takes typed text: an input line or a text area.

    ``TextArea`` is looked up only if loaded: none can have focus before, and
    importing it costs the first frame.
    """
    text_area = sys.modules.get("textual.widgets._text_area")
    return isinstance(widget, Input) or (
        text_area is not None and isinstance(widget, text_area.TextArea)
    )
