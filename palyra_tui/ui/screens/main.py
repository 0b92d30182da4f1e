"""The one screen of the control center: tabs, the current pane, the status bar, the key line.

Health, Logs, Chat and Approvals are panes of this screen, not Textual
screens: showing another pane costs a fraction of a screen switch, which
re-applies the stylesheet to the whole new screen.  A pane is mounted the
moment after the first frame, hidden, and stays mounted, so a visit keeps
its state (the log view, the composer text).  Only the visible pane redraws for a new
snapshot; the others catch up when shown.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget

from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.ui.screens.base import PANES, ControlPane
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.screens.profiles import profile_chip
from palyra_tui.ui.widgets.status_bar import Notice, StatusBar, notice_text
from palyra_tui.ui.widgets.steady import OneLine

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

PANE_NAMES = tuple(name for name, _title in PANES)


def pane_type(name: str) -> type[ControlPane]:
    """The class of the pane ``name``; all but Health are imported once the first frame
    is drawn, when they are mounted."""
    if name == "logs":
        from palyra_tui.ui.screens.logs import LogsPane

        return LogsPane
    if name == "chat":
        from palyra_tui.ui.screens.chat import ChatPane

        return ChatPane
    if name == "approvals":
        from palyra_tui.ui.screens.approvals import ApprovalsPane

        return ApprovalsPane
    return HealthPane


class MainScreen(Screen[None]):
    """Hosts the four panes and what they share."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """As on every screen, but a change does not repaint the screen itself: nothing of its
    own shows focus, and every pane switch moves it (the widgets it leaves and reaches
    repaint themselves)."""

    def __init__(self) -> None:
        super().__init__()
        self.pane_name = "health"
        self._panes: dict[str, ControlPane] = {}
        self._mounting: dict[str, asyncio.Future[None]] = {}
        self._draw_at_idle = False
        """A pane was switched to and is not drawn yet."""
        # The shared lines are kept, not queried: a query walks the DOM on every switch.
        self._tabs = OneLine(classes="tabs")
        self._status = StatusBar(classes="status")
        self._keys = OneLine(classes="keys")
        # A plain container, not a ContentSwitcher: setting ``current`` repaints the
        # switcher as well as the two panes, and a switch is on the key's critical path.
        self._holder = Container(id="panes")

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    @property
    def pane(self) -> ControlPane:
        """The pane on screen."""
        return self._panes[self.pane_name]

    def pane_if_mounted(self) -> ControlPane | None:
        """The pane on screen, or None before the screen has composed it."""
        return self._panes.get(self.pane_name)

    def mounted_pane(self, name: str) -> ControlPane | None:
        """The pane ``name`` if it has been created."""
        return self._panes.get(name)

    def compose(self) -> ComposeResult:
        yield self._tabs
        with self._holder:
            health = HealthPane(id="health")
            self._panes["health"] = health
            yield health
        yield self._status
        yield self._keys

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed)
        self.watch(self.app, "inbox", self._inbox_changed)
        self.watch(self.app, "chat", self._refresh_status, init=False)
        self.watch(self.app, "link_lost", self._refresh_status, init=False)
        self.watch(self.app, "clients", self._refresh_status, init=False)
        self.watch(self.app, "notifications", self._refresh_status, init=False)
        self.watch(self.app, "notice", self._notice_changed)
        self.watch(self.app, "profile", self._profile_changed, init=False)
        self._shown()

    async def mount_panes(self) -> None:
        """Mount the hidden panes ahead of time, so that the first visit is a switch.

        An app that quits meanwhile (its screen detaching) mounts nothing more.
        """
        for name in PANE_NAMES:
            await self._mounted(name)

    async def _mounted(self, name: str) -> None:
        """Mount the pane ``name`` unless it is; a mount under way is waited for, so that
        a pane is never shown before its own ``on_mount`` has run."""
        pending = self._mounting.get(name)
        if pending is not None:
            await pending
            return
        holder = self._holder
        if name not in self._panes and holder.is_attached:
            pane = pane_type(name)(id=name)
            pane.display = False
            self._panes[name] = pane
            mounting = asyncio.ensure_future(holder.mount(pane))
            self._mounting[name] = mounting
            try:
                await mounting
            finally:
                del self._mounting[name]

    async def show_pane(self, name: str) -> None:
        """Put the pane ``name`` on screen (mounting it if it is not yet)."""
        if name not in PANE_NAMES or name == self.pane_name:
            return
        await self._mounted(name)
        if name not in self._panes:
            return
        self.pane.display = False
        self.pane_name = name
        self._panes[name].display = True
        self._draw_at_idle = True
        self._shown()
        self.control.place_changed()

    async def _on_idle(self, _event: events.Idle) -> None:
        """Draw a pane just shown as soon as its messages are handled.

        Textual otherwise draws at the next tick of the screen's update timer, and
        after a recent frame (a log batch, an uptime) that tick can be two frame
        intervals away: 33 ms of a key's latency under a log flood.  Screen's own
        idle handler runs after this one, with nothing left to draw.
        """
        if self._draw_at_idle:
            self._draw_at_idle = False
            self._on_timer_update()

    def _shown(self) -> None:
        pane = self.pane
        self._show_tabs()
        self._notice_changed(self.control.notice)
        pane.focus_first()
        snapshot = self.control.snapshot
        if snapshot is not None:
            pane.show_snapshot(snapshot)
        pane.show_inbox()
        pane.on_shown()

    def _profile_changed(self) -> None:
        self._show_tabs()
        snapshot = self.control.snapshot
        if snapshot is not None:
            self.pane.show_snapshot(snapshot)

    def _show_tabs(self) -> None:
        tabs = _tabs(self.pane)
        tabs.append(" ")
        tabs.append_text(profile_chip(self.control.profile))
        self._tabs.update(tabs)

    def show_keys(self) -> None:
        """Redraw the key line from the pane's keys (when they changed without a notice)."""
        self._notice_changed(self.control.notice)

    def _notice_changed(self, notice: Notice | None) -> None:
        self._keys.update(self.pane.key_hints() if notice is None else notice_text(notice))

    def _snapshot_changed(self, snapshot: AppSnapshot | None) -> None:
        self._refresh_status()
        if snapshot is not None:
            self.pane.show_snapshot(snapshot)

    def _inbox_changed(self) -> None:
        self._refresh_status()
        self.pane.show_inbox()

    def _refresh_status(self) -> None:
        facts = self.control.status_facts()
        if facts is not None:
            self._status.show(facts)


def _tabs(pane: ControlPane) -> Text:
    text = Text(no_wrap=True)
    text.append(" Palyra ", style="bold reverse")
    prefix = pane.SWITCH_PREFIX
    for number, (_name, title) in enumerate(PANES, start=1):
        style = "bold reverse cyan" if title == pane.TITLE else "dim"
        text.append(f" {prefix}{number} {title} ", style=style)
    text.append("  ^g keys" if prefix else "  ? keys", style="dim")
    return text
