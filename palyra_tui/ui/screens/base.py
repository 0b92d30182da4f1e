"""What every screen has: a title line, its body, the status bar and the key footer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.ui.keyguard import SETTLE
from palyra_tui.ui.widgets.status_bar import Notice, StatusBar, notice_text
from palyra_tui.ui.widgets.steady import SteadyStatic

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

_SCREENS = (("health", "Health"), ("logs", "Logs"), ("chat", "Chat"), ("approvals", "Approvals"))


def switch_keys(prefix: str = "") -> list[Binding]:
    """Bindings that switch screens: ``1``–``4``, or ``alt+1``–``alt+4`` where keys are text.

    F1–F4 switch everywhere (the app binds them).
    """
    return [
        Binding(f"{prefix}{number}", f"app.switch_mode('{mode}')", name, show=False)
        for number, (mode, name) in enumerate(_SCREENS, start=1)
    ]


class ControlScreen(Screen[None]):
    """Base of the four screens; subclasses compose :meth:`compose_body`."""

    SCREEN_NAME = ""
    SWITCH_PREFIX = ""
    """What the screen's screen-switching digits need before them (``alt+`` on Chat)."""

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(self._tabs(), classes="tabs")
        yield from self.compose_body()
        yield StatusBar(classes="status")
        yield SteadyStatic(self._key_hints(), classes="keys")

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed)
        self.watch(self.app, "inbox", self._inbox_changed)
        self.watch(self.app, "notice", self._notice_changed)

    def _notice_changed(self, notice: Notice | None) -> None:
        keys = self.query_one(".keys", SteadyStatic)
        keys.update(self._key_hints() if notice is None else notice_text(notice))

    def _snapshot_changed(self, snapshot: AppSnapshot | None) -> None:
        self._refresh_status()
        if snapshot is not None:
            self.show_snapshot(snapshot)

    def _inbox_changed(self) -> None:
        self._refresh_status()
        self.show_inbox()

    def _refresh_status(self) -> None:
        facts = self.control.status_facts()
        if facts is not None:
            self.query_one(StatusBar).show(facts)

    def show_snapshot(self, snapshot: AppSnapshot) -> None:
        """Patch the screen's widgets for a new snapshot."""

    def show_inbox(self) -> None:
        """React to a change of the approval inbox."""

    def settle(self, act: Callable[[], None]) -> None:
        """Run ``act`` if the key that asked for it stands alone (see the key guard).

        The key must have had no printable key just before it, and ``act`` waits
        :data:`SETTLE` seconds and is dropped if another printable key arrives, so
        the first letter of a typed word never acts.  Bind such keys with
        ``priority=True``: the guard must see them in arrival order.
        """
        keys = self.control.keys
        if not keys.stands_alone():
            keys.mark_typing()
            self.app.notify("keys ignored: they look like typed text", markup=False, timeout=2)
            return
        mark = keys.printable

        def later() -> None:
            if keys.printable != mark:
                self.app.notify("cancelled: more keys followed, as in typed text", timeout=2)
                return
            act()

        self.set_timer(SETTLE, later)

    def _key_hints(self) -> Text:
        """The screen's keys on one line (a Footer costs a widget per key on every switch)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for binding in self.BINDINGS:
            if (
                isinstance(binding, Binding)
                and binding.show
                and binding.description
                and self.check_action(binding.action.split("(")[0], ()) is not False
            ):
                text.append(f" {key_label(binding.key)} ", style="bold reverse")
                text.append(f" {binding.description} ")
        text.append(" ^q ", style="bold reverse")
        text.append(" Quit ")
        return text

    def _tabs(self) -> Text:
        text = Text(no_wrap=True)
        text.append(" Palyra ", style="bold reverse")
        prefix = "alt+" if self.SWITCH_PREFIX else ""
        for number, (_mode, name) in enumerate(_SCREENS, start=1):
            style = "bold reverse cyan" if name == self.SCREEN_NAME else "dim"
            text.append(f" {prefix}{number} {name} ", style=style)
        text.append("  ^g keys" if self.SWITCH_PREFIX else "  ? keys", style="dim")
        return text


_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "escape": "Esc",
}


def key_label(key: str) -> str:
    """How a binding's key is written for people: ``^q``, ``/``, ``Esc``."""
    first = key.split(",")[0]
    if first.startswith("ctrl+"):
        return "^" + first.removeprefix("ctrl+")
    return _KEY_NAMES.get(first, first)
