"""What every pane has: keys that switch panes, typed access to the app, a key line.

The panes (Health, Logs, Chat, Approvals) live in one screen
(:mod:`palyra_tui.ui.screens.main`); each composes only its own body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, cast

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.ui.keyguard import SETTLE

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

PANES = (("health", "Health"), ("logs", "Logs"), ("chat", "Chat"), ("approvals", "Approvals"))


def switch_keys(prefix: str = "") -> list[Binding]:
    """Bindings that switch panes: ``1``–``4``, or ``alt+1``–``alt+4`` where keys are text.

    F1–F4 switch everywhere (the app binds them).
    """
    return [
        Binding(f"{prefix}{number}", f"app.show_pane('{name}')", title, show=False)
        for number, (name, title) in enumerate(PANES, start=1)
    ]


class PaneCommand(NamedTuple):
    """A command of a pane in the palette that no key of its own stands for."""

    title: str
    help: str
    action: str
    covers: str = ""
    """The action of a key this command stands in for in the palette ("" for none)."""


class ControlPane(Vertical):
    """Base of the four panes."""

    TITLE = ""
    SWITCH_PREFIX = ""
    """What the pane's switching digits need before them (``alt+`` on Chat)."""

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Every row of a pane's own is its background: its widgets cover the rest.

        Showing a pane makes Textual draw each of its rows again, as many as the
        lines of the log view on top of it; one row is drawn and stands for all.
        """
        if self.styles.gutter or crop.height <= 1:
            return super().render_lines(crop)
        row = super().render_lines(crop._replace(height=1))
        return row * crop.height

    def focus_first(self) -> None:
        """Give focus to the pane's main widget (its keys work only with focus inside)."""

    def on_shown(self) -> None:
        """The pane has just been put on screen."""

    def text_input(self) -> Widget | None:
        """The widget every printable key goes to while the pane is on show, if any."""
        return None

    def unsent_texts(self) -> int:
        """How many texts typed in the pane would be lost if the view ended now."""
        return 0

    def hidden_actions(self) -> frozenset[str]:
        """Actions left out of the key line because they cannot act now: by name
        (``settled``) or whole (``decide('session')``)."""
        return frozenset()

    def key_notes(self) -> dict[str, str]:
        """A few words in the key line in place of a hidden action's key (by whole action)."""
        return {}

    def palette_commands(self) -> tuple[PaneCommand, ...]:
        """Commands the palette offers besides the pane's keys."""
        return ()

    def refresh_keys(self) -> None:
        """The keys that can act changed: show them, unless a notice holds the key line."""
        if self.shown and self.control.notice is None and self.control.screen_stack:
            self.control.main.show_keys()

    @property
    def shown(self) -> bool:
        """True while the pane is the one on screen."""
        return self.display

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
        screen = self.app.screen

        def later() -> None:
            if keys.printable != mark:
                self.app.notify("cancelled: more keys followed, as in typed text", timeout=2)
            elif not self.shown or self.app.screen is not screen:
                self.app.notify("cancelled: the screen changed before it acted", timeout=2)
            else:
                act()

        self.set_timer(SETTLE, later)

    def key_hints(self) -> Text:
        """The pane's keys on one line (a Footer costs a widget per key on every switch)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        hidden = self.hidden_actions()
        notes = self.key_notes()
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or not binding.show or not binding.description:
                continue
            if binding.action in hidden or binding.action.split("(")[0] in hidden:
                if binding.action in notes:
                    text.append(f" {notes[binding.action]} ", style="dim")
                continue
            text.append(f" {key_label(binding.key)} ", style="bold reverse")
            text.append(f" {binding.description} ")
        text.append(" ^q ", style="bold reverse")
        text.append(" Quit ")
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
