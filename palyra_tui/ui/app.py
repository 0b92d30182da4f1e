"""The control center: wiring of screens, the snapshot loop, runs and notifications.

Screens own their widgets, keys and handlers; this module holds what they
share: the snapshot (one reactive every screen watches), the run manager
(chat runs continue while the operator looks at another screen), the approval
inbox, and the notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.models import ServiceEvent, ServiceState
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.state.alerts import AlertKey, AlertLimiter
from palyra_tui.state.collector import SnapshotCollector
from palyra_tui.state.gateway_link import GatewayLink, preload
from palyra_tui.state.inbox import InboxEntry, merge
from palyra_tui.state.runs import RunManager
from palyra_tui.state.snapshot import AppSnapshot, ConnectionState
from palyra_tui.supervisor import Supervisor
from palyra_tui.text import sanitize_line
from palyra_tui.ui import notify
from palyra_tui.ui.keyguard import KeyGuard
from palyra_tui.ui.screens.approvals import ApprovalsPane
from palyra_tui.ui.screens.base import ControlPane, key_label
from palyra_tui.ui.screens.chat import ChatPane, Composer
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.screens.main import MainScreen
from palyra_tui.ui.screens.pager import PagerScreen
from palyra_tui.ui.widgets.status_bar import Notice, StatusFacts

NOTICE_HISTORY = 50
TYPING_HINT_EVERY = 5.0
"""Seconds between two notices that keys were taken for typed text."""
CRASH_STATES = frozenset({ServiceState.BACKOFF, ServiceState.FAILED, ServiceState.EXITED})


class PalyraApp(App[None]):
    """Health, logs, chat and approvals for one Palyra runtime."""

    TITLE = "Palyra"
    CSS_PATH = [
        "styles/base.tcss",
        "styles/health.tcss",
        "styles/logs.tcss",
        "styles/chat.tcss",
        "styles/approvals.tcss",
    ]
    BINDINGS = [
        Binding("f1", "show_pane('health')", "Health", show=False, priority=True),
        Binding("f2", "show_pane('logs')", "Logs", show=False, priority=True),
        Binding("f3", "show_pane('chat')", "Chat", show=False, priority=True),
        Binding("f4", "show_pane('approvals')", "Approvals", show=False, priority=True),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys"),
        Binding("ctrl+g", "toggle_keys", "Keys", show=False, priority=True),
        Binding("ctrl+q", "quit_app", "Quit", id="app.quit", priority=True),
        Binding("ctrl+o", "toggle_notifications", "Notifications", show=False),
        Binding("f5", "show_notices", "Notices", show=False, priority=True),
    ]

    snapshot: var[AppSnapshot | None] = var(None)
    """The latest collected snapshot; screens watch it."""
    inbox: var[tuple[InboxEntry, ...]] = var(())
    """Pending approvals, ours first."""
    chat_version: var[int] = var(0)
    """Bumped whenever a transcript changes."""
    notice: var[Notice | None] = var(None)
    """The newest notification, shown in the screen's key line until it expires."""

    def __init__(
        self,
        supervisor: Supervisor,
        identity: ClientIdentity,
        runtime: RuntimeConfig,
        *,
        owns_services: bool = True,
        start_services: bool = False,
        interval: float = 1.0,
        notifications: bool = True,
        startup_error: str = "",
        clock: Clock | None = None,
        collect: Callable[[], Awaitable[AppSnapshot]] | None = None,
    ) -> None:
        super().__init__()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.keys = KeyGuard(self.clock)
        self._typing_hint_at = float("-inf")
        self._alerts = AlertLimiter(self.clock)
        self._notice_timer: Timer | None = None
        self.notice_history: deque[Notice] = deque(maxlen=NOTICE_HISTORY)
        """The latest notices, newest last."""
        self._collect = collect
        self.supervisor = supervisor
        self.identity = identity
        self.runtime = runtime
        self.owns_services = owns_services
        self._start_services = start_services
        self.interval = interval
        self.notifications = notifications
        self.startup_error = startup_error
        self.link = GatewayLink(identity, runtime)
        self.runs = RunManager(
            self.link,
            on_change=self._chat_changed,
            on_inbox=self._refresh_inbox,
            on_finished=self._run_finished,
            on_sessions=self.request_refresh,
            clock=self.clock,
        )
        self._wake = asyncio.Event()
        self._known_approvals: set[str] = set()
        self.http_base = ""
        self.grpc_target = ""
        self._exiting = False

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
        await self.main.show_pane(name)

    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What may be slow starts only once the first frame is on the terminal."""
        if self._start_services:
            self.run_worker(self.supervisor.start_all(), group="start", exit_on_error=False)
        self.snapshot_loop()
        self.watch_services()
        self.call_after_refresh(self.main.mount_panes)

    async def on_unmount(self) -> None:
        self._exiting = True
        await self.link.close()

    @work(exclusive=True, group="snapshot", exit_on_error=False, description="snapshot loop")
    async def snapshot_loop(self) -> None:
        """Collect, publish, sleep (or wake early on request), forever.

        Until the gateway answers, it looks four times as often, so live data
        appears as soon as the gateway is up.
        """
        if self._collect is None:
            await asyncio.to_thread(preload)
        collect = self._collect or SnapshotCollector(self.supervisor, self.link, self.clock).collect
        while True:
            snapshot = await collect()
            self.grpc_target, self.http_base = self.link.targets(snapshot.supervisor)
            self.snapshot = snapshot
            self._refresh_inbox()
            self._update_title()
            waiting = snapshot.connection is not ConnectionState.CONNECTED
            interval = self.interval / 4 if waiting else self.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    @work(group="events", exit_on_error=False, description="service events")
    async def watch_services(self) -> None:
        """Toast and notify when a service crashes."""
        with contextlib.suppress(Exception):
            events = self.supervisor.subscribe_events()
            async for event in events:
                self._service_event(event)

    def request_refresh(self) -> None:
        """Collect a new snapshot now instead of at the next interval."""
        self._wake.set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "snapshot" or self._exiting:
            return
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            reason = event.worker.error or "cancelled"
            self.notify(
                sanitize_line(f"refresh restarted after: {reason}"),
                severity="warning",
                markup=False,
            )
            self.snapshot_loop()

    async def on_event(self, event: events.Event) -> None:
        """Screen every key before Textual dispatches it (see :mod:`palyra_tui.ui.keyguard`).

        On the Chat screen every printable key belongs to the composer, wherever
        focus was.  Elsewhere, a printable key that is a hotkey of the screen is
        dropped while the operator is typing text.
        """
        if isinstance(event, events.Key) and not event.is_forwarded and event.is_printable:
            if isinstance(self.focused, (Input, TextArea)):
                self.keys.entered()
            elif not self._admit(event):
                return
        await super().on_event(event)

    def _admit(self, event: events.Key) -> bool:
        screen = self.screen
        pane = self.pane
        if isinstance(pane, ChatPane) and screen is self.main:
            self.keys.admit(hotkey=False)
            screen.set_focus(pane.query_one(Composer))
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
        return StatusFacts(
            connection=snapshot.connection,
            overall=snapshot.overall,
            approvals=len(self.inbox),
            active_runs=len(self.runs.active),
            drafts=len(self.runs.drafts.all()),
            error=error,
        )

    def _refresh_inbox(self) -> None:
        records = self.snapshot.approvals if self.snapshot is not None else ()
        entries = merge(self.runs.stream_entries(), records, frozenset(self.runs.decided))
        new = [e for e in entries if e.approval_id not in self._known_approvals]
        self._known_approvals.update(e.approval_id for e in entries)
        self.inbox = entries
        if new and not isinstance(self.pane, ApprovalsPane):
            first = new[0]
            more = f" (+{len(new) - 1} more)" if len(new) > 1 else ""
            self.alert(
                AlertKey(first.approval_id, "approval needed"),
                "Approval needed",
                f"{first.title}: {first.summary}{more}",
                "warning",
            )

    def _chat_changed(self, _session_id: str) -> None:
        self.chat_version += 1

    def _run_finished(self, session_id: str, summary: str) -> None:
        pane = self.pane
        if isinstance(pane, ChatPane) and pane.session_id == session_id:
            return
        self.alert(AlertKey(session_id, "run finished"), "Run finished", summary, "information")

    def _service_event(self, event: ServiceEvent) -> None:
        crashed = event.exit is not None and not event.exit.success
        if crashed and event.state in CRASH_STATES and not isinstance(self.pane, HealthPane):
            assert event.exit is not None
            description = event.exit.description
            body = event.reason if description in event.reason else f"{description}; {event.reason}"
            self.alert(AlertKey(event.service, "ended"), f"{event.service} ended", body, "error")
        self.request_refresh()

    def alert(self, key: AlertKey, title: str, body: str, severity: str = "information") -> None:
        """A notice and, unless turned off, a terminal notification: one per key and window."""
        held = self._alerts.admit(key)
        if held is None:
            return
        if held:
            body += f" ({held} similar alert{'s' if held != 1 else ''} held back)"
        message = sanitize_line(f"{title}: {body}")
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
        if self.notifications and self._driver is not None:
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

    def _update_title(self) -> None:
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
        """The command palette offers the actions of the pane it was opened from.

        Textual's own Quit exits at once; it is replaced by ours, which asks and
        stops the services this program started.
        """
        titles: set[str] = set()
        owners = (screen, self, self.pane)
        for active in screen.active_bindings.values():
            binding = active.binding
            if (
                active.node not in owners
                or not binding.description
                or not active.enabled
                or binding.action == "command_palette"
                or binding.description in titles
            ):
                continue
            titles.add(binding.description)
            yield SystemCommand(
                binding.description,
                f"key {key_label(binding.key)}",
                partial(self.run_action, binding.action, active.node),
            )
        for command in super().get_system_commands(screen):
            if command.title not in titles and command.title != "Quit":
                yield command

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies in the composer); say which key does."""
        self.notify("Ctrl+Q quits (it asks first)", markup=False)

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

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
        self.notifications = not self.notifications
        state = "on" if self.notifications else "off"
        self.notify(f"terminal notifications {state}")

    def action_quit_app(self) -> None:
        running = [
            s.name
            for s in self.supervisor.snapshot().services
            if s.state.is_up or s.state is ServiceState.BACKOFF
        ]
        stopping = running if self.owns_services else []
        unsent = self._unsent_messages()
        if not stopping and not unsent:
            self._exiting = True
            self.exit()
            return
        question = f"Stop {', '.join(stopping)} and quit?" if stopping else "Quit?"
        if unsent:
            question += (
                f"\n{unsent} unsent message{'s' if unsent != 1 else ''} (offline drafts and "
                "composer text) will be lost."
            )
        self.push_screen(
            ConfirmScreen(
                question, clock=self.clock, confirm="Stop and quit" if stopping else "Quit"
            ),
            self._quit_confirmed,
        )

    def _unsent_messages(self) -> int:
        """Offline drafts plus the sessions with text typed in the composer."""
        chat = self.main.mounted_pane("chat")
        typed = chat.unsent_texts() if isinstance(chat, ChatPane) else 0
        return len(self.runs.drafts.all()) + typed

    def _quit_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self.notify("stopping services…")
            self.stop_and_exit()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def stop_and_exit(self) -> None:
        """Stop every service cleanly, then leave."""
        self._exiting = True
        if self.owns_services:
            await self.supervisor.stop_all("stopped: palyra-tui quit")
        self.exit()
