"""Confirmation and reason dialogs; the safe choice is the default."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from palyra_tui.models.clock import Clock
from palyra_tui.ui.safe import block

ARMING_DELAY = 0.5


class ConfirmScreen(ModalScreen[bool]):
    """Asks a yes/no question that names its target; Enter and Esc say no."""

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
    ]

    def __init__(self, question: str, *, clock: Clock, confirm: str = "Yes") -> None:
        super().__init__()
        self._question = question
        self._confirm = confirm
        self._clock = clock
        self._armed_at = clock.monotonic() + ARMING_DELAY

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(block(self._question), classes="question")
            yield Static("y confirms · n or Esc cancels", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self._confirm, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        """No is always taken; yes only once the question has been readable for a moment."""
        if answer and self._clock.monotonic() < self._armed_at:
            self.app.bell()
            return
        self.dismiss(answer)


class ReasonScreen(ModalScreen[str | None]):
    """Asks for a reason (deny with a reason); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(block(self._question), classes="question")
            yield Input(placeholder="reason (Enter sends, Esc cancels)", id="reason")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
