"""The reference for the side-by-side benchmark: a minimal two-screen Textual app.

It draws the same first word as the control center ("Health") and switches
screens with the same keys, so the difference between the two is our own cost.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


class _Named(Screen[None]):
    NAME = ""
    HINT = ""

    def compose(self) -> ComposeResult:
        yield Static(f" {self.NAME} ")
        yield Static(self.HINT)


class HealthScreen(_Named):
    NAME = "Health"
    HINT = "h Hold restarts"


class LogsScreen(_Named):
    NAME = "Logs"
    HINT = "n Next match"


class MinimalApp(App[None]):
    MODES = {"health": HealthScreen, "logs": LogsScreen}
    DEFAULT_MODE = "health"
    BINDINGS = [
        Binding("1", "switch_mode('health')"),
        Binding("2", "switch_mode('logs')"),
        Binding("ctrl+q", "quit", priority=True),
    ]


if __name__ == "__main__":
    MinimalApp().run()
