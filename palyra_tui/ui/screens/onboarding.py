"""Onboarding: the steps to a working runtime, one at a time, by keyboard.

The steps are listed on the left with where each stands; the one selected
(the current step, unless the operator moves) is explained on the right with
what to do.  Enter does the selected step; ``s`` skips it where that is
allowed (Discord, the dashboard handoff); ``r`` checks again; Esc leaves for
the control center and loses nothing: progress lives in the runtime, and the
screen itself stays installed, so a directory typed but not yet confirmed is
still there on return.  The API key field is masked, and is emptied the
moment its key is sent and whenever the screen is left.

The dashboard handoff is the app's: this screen calls the app's
``open_dashboard`` action when there is one.  The step is marked done by
whatever opens the dashboard (``OnboardingAction.DASHBOARD_OPENED``), or
skipped here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, cast

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from palyra_tui.errors import PalyraError
from palyra_tui.models.preflight import CheckStatus, Preflight
from palyra_tui.state.onboarding import (
    OnboardingAction,
    OnboardingStatus,
    Phase,
    Step,
    StepKey,
    StepStatus,
)
from palyra_tui.ui.safe import block, plain
from palyra_tui.ui.screens.base import key_label
from palyra_tui.ui.widgets.status_bar import notice_text
from palyra_tui.ui.widgets.steady import SteadyStatic

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

NAME = "onboarding"
"""The name the screen is installed under."""

_GLYPHS = {
    StepStatus.COMPLETE: ("✔", "green"),
    StepStatus.BLOCKED: ("✖", "bold red"),
    StepStatus.CURRENT: ("▶", "bold cyan"),
    StepStatus.PENDING: ("·", "dim"),
}
_CHECK_STYLES = {
    CheckStatus.OK: ("ok", "green"),
    CheckStatus.WARNING: ("warning", "yellow"),
    CheckStatus.BLOCKED: ("blocked", "bold red"),
}
_ENTER = {
    StepKey.WELCOME: "Begin",
    StepKey.ENVIRONMENT: "Check again",
    StepKey.STATE_ROOT: "Confirm",
    StepKey.GATEWAY_INIT: "Start the gateway",
    StepKey.OPERATOR_AUTH: "Check again",
    StepKey.OPENAI: "Send the key",
    StepKey.DISCORD: "How to connect",
    StepKey.DASHBOARD: "Open the dashboard",
    StepKey.COMPLETION: "Finish",
}


class OnboardingScreen(Screen[None]):
    """The onboarding steps over the control center."""

    BINDINGS = [
        Binding("enter", "do", "Do the step", show=False),
        Binding("s", "skip", "Skip"),
        Binding("r", "check", "Check again"),
        Binding("escape,f6", "leave", "Leave onboarding"),
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: OnboardingStatus | None = None
        self.selected = StepKey.WELCOME
        self._following = True
        """The selection follows the current step until the operator moves it."""
        self.busy = ""
        """What is under way ("" when nothing is)."""
        self._busy_step = StepKey.WELCOME
        """The step the work under way is for."""
        self.problem = ""
        """The last refusal, one sentence ("" after a success)."""
        self._waiting_for_gateway = False
        self._lines: tuple[Text, ...] = ()

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="ob-header")
        with Horizontal(id="ob-body"):
            yield OptionList(id="ob-steps")
            with VerticalScroll(id="ob-detail-box"):
                yield SteadyStatic(id="ob-title")
                yield SteadyStatic(id="ob-detail")
                yield Input(
                    placeholder="the daemons' directory (empty: the default)",
                    id="ob-root",
                )
                yield Input(
                    placeholder="OpenAI API key (hidden; Enter sends it to the gateway)",
                    password=True,
                    id="ob-key",
                )
                yield SteadyStatic(id="ob-problem")
                yield Static(id="ob-checks")
                yield SteadyStatic(id="ob-recovery")
        yield SteadyStatic(id="ob-keys")

    def on_mount(self) -> None:
        steps = self.query_one("#ob-steps", OptionList)
        steps.add_options([Option(key.value, id=key.value) for key in StepKey])
        self.watch(self.app, "onboarding", self._status_changed)
        self.watch(self.app, "notice", self._show_keys, init=False)
        known = self.control.onboarding
        if known is None or known.preflight is None:
            self.run_check()

    def on_screen_resume(self) -> None:
        self._focus()
        self._show()

    def on_screen_suspend(self) -> None:
        self.query_one("#ob-key", Input).clear()

    # Status --------------------------------------------------------------------------

    def _status_changed(self, status: OnboardingStatus | None) -> None:
        if status is None:
            self._show()
            return
        previous = self.status
        self.status = status
        if self._following or previous is None:
            self._select(status.current)
        gateway = status.step(StepKey.GATEWAY_INIT)
        if gateway.status is StepStatus.COMPLETE and self._waiting_for_gateway:
            self._waiting_for_gateway = False
            self.busy = ""
        self._show()

    def _select(self, key: StepKey) -> None:
        changed = key is not self.selected
        self.selected = key
        steps = self.query_one("#ob-steps", OptionList)
        index = list(StepKey).index(key)
        if steps.highlighted != index:
            steps.highlighted = index
        if changed:
            self.problem = ""
            self._focus()

    def _focus(self) -> None:
        if self.selected is StepKey.STATE_ROOT:
            self.query_one("#ob-root", Input).focus()
        elif self.selected is StepKey.OPENAI:
            self.query_one("#ob-key", Input).focus()
        else:
            self.query_one("#ob-steps", OptionList).focus()

    @on(OptionList.OptionHighlighted, "#ob-steps")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = StepKey(event.option.id) if event.option.id else self.selected
        if key is self.selected:
            return
        self._following = self.status is not None and key is self.status.current
        self.selected = key
        self.problem = ""
        self._show()
        self._focus()

    @on(OptionList.OptionSelected, "#ob-steps")
    def _chosen(self) -> None:
        self.action_do()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_do()

    # Drawing -------------------------------------------------------------------------

    def _show(self) -> None:
        status = self.status
        self.query_one("#ob-header", SteadyStatic).update(_header(status))
        if status is not None:
            steps = self.query_one("#ob-steps", OptionList)
            lines = tuple(_step_line(line) for line in status.steps)
            for index, line in enumerate(lines):
                if index >= len(self._lines) or self._lines[index] != line:
                    steps.replace_option_prompt_at_index(index, line)
            self._lines = lines
        step = status.step(self.selected) if status is not None else None
        title = self.query_one("#ob-title", SteadyStatic)
        detail = self.query_one("#ob-detail", SteadyStatic)
        if step is None:
            title.update(plain("Onboarding", "bold"))
            detail.update(plain("Reading where onboarding stands…", "dim"))
        else:
            title.update(_title(step))
            detail.update(self._detail(step, status))
        self.query_one("#ob-root", Input).display = self.selected is StepKey.STATE_ROOT
        self.query_one("#ob-key", Input).display = self.selected is StepKey.OPENAI
        problem = self.query_one("#ob-problem", SteadyStatic)
        recorded = status.recovery if status is not None else None
        said = self.problem and not (recorded is not None and recorded.message == self.problem)
        problem.update(block(self.problem, "bold red") if said else Text(""))
        problem.display = bool(said)
        checks = self.query_one("#ob-checks", Static)
        preflight = status.preflight if status is not None else None
        show_checks = self.selected is StepKey.ENVIRONMENT and preflight is not None
        checks.display = show_checks
        if show_checks and preflight is not None:
            checks.update(preflight_table(preflight))
        recovery = self.query_one("#ob-recovery", SteadyStatic)
        text = _recovery(status, self.selected)
        recovery.update(text)
        recovery.display = bool(text.plain)
        self._show_keys()

    def _show_keys(self, _notice: object = None) -> None:
        """The key line: the newest notice while one is up (this screen covers the one
        the control center shows it in), else the keys of the selected step."""
        notice = self.control.notice
        status = self.status
        step = status.step(self.selected) if status is not None else None
        keys = self.query_one("#ob-keys", SteadyStatic)
        keys.update(notice_text(notice) if notice is not None else self._keys(step))

    def _detail(self, step: Step, status: OnboardingStatus | None) -> Text:
        text = block(step.detail)
        if self.busy and step.key is self._busy_step:
            text.append("\n" + self.busy, style="italic cyan")
        if step.key is StepKey.STATE_ROOT and status is not None:
            text.append(
                "\n\nEnter confirms; leave the field empty to keep the default directory, or "
                "type an absolute directory inside the state root's tui directory. Another "
                "state root: set PALYRA_STATE_ROOT or state_root in the config file, then start "
                "palyra-tui again.",
                style="dim",
            )
        if step.key is StepKey.OPENAI and step.status is not StepStatus.COMPLETE:
            text.append(
                "\n\nThe key goes to the gateway once, which checks it with OpenAI and keeps "
                "it in its vault; palyra-tui stores it nowhere and holds it in memory only to "
                "hide it from logs.",
                style="dim",
            )
        return text

    def _keys(self, step: Step | None) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")

        def key(name: str, what: str) -> None:
            text.append(f" {name} ", style="bold reverse")
            text.append(f" {what} ")

        if step is not None:
            key("Enter", _ENTER[step.key])
            if step.skippable and step.status is not StepStatus.COMPLETE:
                key("s", "Skip")
        if step is None or _ENTER[step.key] != "Check again":
            key("r", "Check again")
        key("↑↓", "Steps")
        key("Esc", "Leave (progress is kept)")
        key(key_label("ctrl+q"), "Quit")
        return text

    # Actions -------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        steps = self.query_one("#ob-steps", OptionList)
        if delta < 0:
            steps.action_cursor_up()
        else:
            steps.action_cursor_down()

    def action_leave(self) -> None:
        self.query_one("#ob-key", Input).clear()
        self.app.pop_screen()

    def action_check(self) -> None:
        self.run_check()

    def run_check(self) -> None:
        self._run(OnboardingAction.CHECK, "Checking…")

    def action_skip(self) -> None:
        if self.selected is StepKey.DISCORD:
            self._run(OnboardingAction.SKIP_DISCORD, "Skipping Discord…")
        elif self.selected is StepKey.DASHBOARD:
            self._run(OnboardingAction.SKIP_DASHBOARD, "Skipping the dashboard handoff…")
        else:
            self.app.notify(
                "only Discord and the dashboard handoff can be skipped", markup=False, timeout=3
            )

    def action_do(self) -> None:
        """Do the selected step's main action."""
        key = self.selected
        if self.busy and not self._waiting_for_gateway:
            self.app.notify("wait: the step before is still under way", markup=False, timeout=2)
            return
        if key is StepKey.WELCOME:
            self._run(OnboardingAction.ACKNOWLEDGE_WELCOME, "")
        elif key in (StepKey.ENVIRONMENT, StepKey.OPERATOR_AUTH):
            self.run_check()
        elif key is StepKey.STATE_ROOT:
            typed = self.query_one("#ob-root", Input).value
            self._work(self.control.runtime.confirm_state_root(typed), "Checking the directory…")
        elif key is StepKey.GATEWAY_INIT:
            self._waiting_for_gateway = True
            self._run(
                OnboardingAction.START_GATEWAY,
                "Starting the runtime; waiting for the gateway to answer…",
                keep_busy=True,
            )
        elif key is StepKey.OPENAI:
            field = self.query_one("#ob-key", Input)
            api_key = field.value
            field.clear()
            if not api_key.strip():
                self.problem = "Paste an OpenAI API key first: the field is empty."
                self._show()
                return
            self._work(self.control.runtime.connect_openai(api_key), "Sending the key…")
        elif key is StepKey.DISCORD:
            self.app.notify(
                "Connect Discord in the web dashboard (Channels), then press r; s skips it.",
                markup=False,
            )
        elif key is StepKey.DASHBOARD:
            self._open_dashboard()
        elif key is StepKey.COMPLETION:
            self._finish()

    def _open_dashboard(self) -> None:
        if not hasattr(self.app, "action_open_dashboard"):
            self.app.notify(
                "opening the dashboard is not available in this version: s skips the step",
                markup=False,
            )
            return
        self.run_worker(self.app.run_action("open_dashboard"), exit_on_error=False)

    def _finish(self) -> None:
        status = self.status
        if status is not None and status.phase is Phase.HOME:
            self.action_leave()
            return
        self._run(OnboardingAction.COMPLETE, "")

    def _run(self, action: OnboardingAction, busy: str, *, keep_busy: bool = False) -> None:
        self._work(self.control.runtime.onboarding_step(action), busy, keep_busy=keep_busy)

    def _work(
        self, call: Awaitable[OnboardingStatus], busy: str, *, keep_busy: bool = False
    ) -> None:
        self.busy = busy
        self._busy_step = self.selected
        self.problem = ""
        self._show()
        self.run_worker(self._finish_work(call, keep_busy), group="onboarding", exit_on_error=False)

    async def _finish_work(self, call: Awaitable[OnboardingStatus], keep_busy: bool) -> None:
        try:
            status = await call
        except PalyraError as refused:
            self.problem = str(refused)
            self._waiting_for_gateway = False
            self.busy = ""
        else:
            if not keep_busy or status.step(StepKey.GATEWAY_INIT).status is StepStatus.COMPLETE:
                self.busy = ""
                self._waiting_for_gateway = False
            self.control.onboarding = status
        self._show()


# Rendering ---------------------------------------------------------------------------


def _header(status: OnboardingStatus | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" Palyra ", style="bold reverse")
    text.append(" Onboarding ", style="bold reverse cyan")
    if status is None:
        return text
    text.append(f"  {status.progress_completed} of {status.progress_total} steps complete")
    if status.phase is Phase.HOME:
        text.append(" · complete", style="green")
    else:
        text.append(f" · now: {status.current_step.title}", style="bold")
    return text


def _step_line(step: Step) -> Text:
    glyph, style = _GLYPHS[step.status]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{glyph} ", style=style)
    text.append(step.title, style="bold" if step.status is StepStatus.CURRENT else "")
    if step.skipped:
        text.append(" (skipped)", style="dim")
    elif step.status is StepStatus.BLOCKED:
        text.append(" (blocked)", style="red")
    elif step.skippable and step.status is not StepStatus.COMPLETE:
        text.append(" (optional)", style="dim")
    return text


def _title(step: Step) -> Text:
    _, style = _GLYPHS[step.status]
    text = Text()
    text.append(step.title, style="bold")
    text.append(f"  {step.status.value}", style=style)
    return text


def _recovery(status: OnboardingStatus | None, selected: StepKey) -> Text:
    recovery = status.recovery if status is not None else None
    if recovery is None or recovery.step is not selected:
        return Text("")
    text = Text()
    text.append("What to do\n", style="bold yellow")
    text.append_text(block(recovery.message))
    for action in recovery.suggested_actions:
        text.append("\n • ")
        text.append_text(block(action))
    return text


def preflight_table(preflight: Preflight) -> RenderableType:
    """The Environment step's checks: status, check, detail and what to do."""
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", overflow="fold")
    table.add_column("detail", ratio=3, overflow="fold")
    table.add_column("hint", ratio=2, overflow="fold")
    for check in preflight.checks:
        word, style = _CHECK_STYLES[check.status]
        table.add_row(
            Text(word, style=style), plain(check.label), block(check.detail), block(check.hint)
        )
    return table
