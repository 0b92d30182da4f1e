"""Switching profiles: the picker, the confirmations, and the chip that names the profile.

A switch stops the local services, so no single key does it: the picker
opens on the active profile (Enter there changes nothing), a profile chosen
is confirmed with ``y`` once the question has been readable for a moment,
and a strict profile only with its name typed exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color, ColorParseError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from palyra_tui.errors import PalyraError
from palyra_tui.state.profiles import ProfileInfo
from palyra_tui.text import sanitize_line
from palyra_tui.ui.safe import plain
from palyra_tui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

_COLORS = {"emerald": "green", "amber": "yellow", "red": "red"}
_RISK_COLORS = {"low": "green", "medium": "yellow", "elevated": "yellow"}


def profile_color(info: ProfileInfo) -> str:
    """The catalog's colour as a terminal colour; one it does not name comes from the risk."""
    named = _COLORS.get(info.color.lower(), info.color.lower())
    try:
        Color.parse(named)
    except ColorParseError:
        return _RISK_COLORS.get(info.risk_level.value, "red")
    return named


def profile_chip(info: ProfileInfo) -> Text:
    """``Staging · high risk · strict``, in the profile's colour.  The risk is words as
    well as colour, so it reads the same without colour (NO_COLOR)."""
    facts = [info.label, f"{info.risk_level.value} risk"]
    if info.remote:
        facts.append("remote")
    if info.strict:
        facts.append("strict")
    text = Text(no_wrap=True, end="")
    text.append_text(plain(f" {' · '.join(facts)} ", f"bold reverse {profile_color(info)}"))
    return text


class ProfilePicker(ModalScreen[str | None]):
    """The catalog's profiles; Enter picks one, Esc closes.  Opens on the active one."""

    BINDINGS = [Binding("escape", "close", "Cancel")]

    def __init__(self, profiles: tuple[ProfileInfo, ...], active: str) -> None:
        super().__init__()
        self._profiles = profiles
        self._active = active

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Switch profile", classes="question")
            yield OptionList(*(self._option(p) for p in self._profiles), id="profiles")
            yield Static("Enter chooses (it asks first) · Esc cancels", classes="hint")

    def _option(self, info: ProfileInfo) -> Option:
        text = Text(no_wrap=True)
        text.append("● " if info.name == self._active else "  ")
        text.append_text(profile_chip(info))
        text.append_text(plain(f"  {info.name} · {info.environment} · {info.mode.value}"))
        if info.name == self._active:
            text.append("  (active)", style="dim")
        return Option(text, id=info.name)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [p.name for p in self._profiles]
        options.highlighted = names.index(self._active) if self._active in names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


class TypedNameScreen(ModalScreen[str | None]):
    """Asks for the profile's name, typed exactly; Enter with anything else says so."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, info: ProfileInfo) -> None:
        super().__init__()
        self._info = info

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                plain(
                    f"{self._info.describe()} is strict. Switching stops the local services "
                    "and does not start them again."
                ),
                classes="question",
            )
            yield Static(plain(f"Type {self._info.name} to switch, Esc cancels"), classes="hint")
            yield Input(placeholder=self._info.name, id="typed")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value != self._info.name:
            self.app.bell()
            self.query_one(".hint", Static).update(
                plain(f"that is not {self._info.name}: type the name exactly, or Esc")
            )
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def offer_switch(app: PalyraApp) -> None:
    """Open the picker over the catalog the runtime knows."""
    view = app.runtime.view()

    def picked(name: str | None) -> None:
        if name is None:
            return
        info = next((p for p in view.profiles if p.name == name), None)
        if info is None or name == app.runtime.view().profile.name:
            app.notify(f"already using the profile {name!r}", markup=False, timeout=3)
            return
        if info.strict:
            app.push_screen(TypedNameScreen(info), lambda typed: _confirmed(app, name, typed))
            return
        question = (
            f"Switch to {info.describe()}?\nThe local services stop and are not started again."
        )
        app.push_screen(
            ConfirmScreen(question, clock=app.clock, confirm="Switch"),
            lambda ok: _confirmed(app, name, "" if ok else None),
        )

    app.push_screen(ProfilePicker(view.profiles, view.profile.name), picked)


def _confirmed(app: PalyraApp, name: str, confirmation: str | None) -> None:
    if confirmation is None:
        return

    async def switch() -> None:
        try:
            said = await app.runtime.switch_profile(name, confirmation)
        except PalyraError as error:
            app.notify(sanitize_line(str(error)), severity="error", markup=False, timeout=8)
            return
        app.notify(sanitize_line(said), markup=False, timeout=10)

    app.run_worker(switch(), group="profile", exclusive=True, exit_on_error=False)
