"""The Onboarding screen and its keys, over the fixed runtime (manual clock)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.command import CommandList
from textual.widgets import Input, OptionList, Static

from palyra_tui.state.onboarding import StepKey, StepStatus
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.main import MainScreen
from palyra_tui.ui.screens.onboarding import OnboardingScreen
from tests.snapshots.fixed import (
    FIXED_KEY,
    FixedRuntime,
    fixed_app,
    fixed_runtime,
    onboarding_facts,
)
from tests.ui.conftest import HUMAN_PAUSE, advance, notices, until

SIZE = (110, 34)


def text_of(screen: OnboardingScreen, selector: str) -> str:
    """What a widget shows, as plain text (a table included)."""
    console = Console(width=100, record=True, file=io.StringIO())
    content = screen.query_one(selector, Static).content
    console.print(content)
    return console.export_text()


async def onboarding(app: PalyraApp, pilot: Any) -> OnboardingScreen:
    await until(pilot, lambda: isinstance(app.screen, OnboardingScreen))
    screen = app.screen
    assert isinstance(screen, OnboardingScreen)
    await until(pilot, lambda: screen.status is not None)
    return screen


async def select(app: PalyraApp, pilot: Any, key: StepKey) -> OnboardingScreen:
    """Move the selection to ``key`` with the arrow keys."""
    screen = await onboarding(app, pilot)
    order = list(StepKey)
    while screen.selected is not key:
        await pilot.press("down" if order.index(key) > order.index(screen.selected) else "up")
    return screen


def runtime_of(app: PalyraApp) -> FixedRuntime:
    return fixed_runtime(app)


async def test_onboarding_is_shown_first_until_it_is_complete() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await onboarding(app, pilot)
        assert screen.selected is StepKey.WELCOME
        header = text_of(screen, "#ob-header")
        assert "0 of 9 steps complete" in header and "now: Welcome" in header
        steps = screen.query_one("#ob-steps", OptionList)
        lines = [str(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]
        assert lines[0].startswith("▶ Welcome")
        assert lines[1] == "✖ Environment and binaries (blocked)"
        assert lines[6] == "· Discord connect and verify (optional)"
        app.notice = None  # the fixed runtime's waiting approval is announced first
        await until(pilot, lambda: "Esc" in text_of(screen, "#ob-keys"))


async def test_a_completed_onboarding_opens_the_control_center() -> None:
    app = fixed_app()
    app._onboarding_at_start = True
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.onboarding is not None)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_enter_acknowledges_welcome_and_the_selection_follows_the_current_step() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await onboarding(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: screen.selected is StepKey.ENVIRONMENT)
        assert runtime_of(app).onboarding_calls[-1] == "acknowledge_welcome"
        assert screen.status is not None
        assert screen.status.step(StepKey.WELCOME).status is StepStatus.COMPLETE
        checks = text_of(screen, "#ob-checks")
        assert "blocked" in checks and "Gateway binary" in checks and "palyrad" in checks
        assert "install Palyra" in checks
        recovery = text_of(screen, "#ob-recovery")
        assert "palyra-tui doctor" in recovery and "palyra-tui demo" in recovery


async def test_gateway_init_says_what_is_missing_and_suggests_the_demo() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.GATEWAY_INIT)
        detail = text_of(screen, "#ob-detail")
        assert "palyrad cannot be found" in detail and "palyra-tui demo" in detail
        await pilot.press("enter")
        await until(pilot, lambda: "start_gateway" in runtime_of(app).onboarding_calls)


async def test_esc_leaves_and_f6_comes_back_to_the_same_progress() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await onboarding(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: screen.selected is StepKey.ENVIRONMENT)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("f6")
        back = await onboarding(app, pilot)
        assert back is screen
        assert back.status is not None
        assert back.status.step(StepKey.WELCOME).status is StepStatus.COMPLETE


async def test_the_palette_offers_onboarding() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Onboarding")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 0)
        assert "Onboarding" in str(commands.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await onboarding(app, pilot)


async def test_the_api_key_field_is_masked_and_emptied_once_sent() -> None:
    app = fixed_app(onboarding=True)
    wrong = "sk-wrong-key-0123456789"
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.OPENAI)
        field = screen.query_one("#ob-key", Input)
        assert field.password and app.focused is field
        await pilot.press(*wrong)
        assert field.value == wrong
        assert wrong not in str(field.render_line(0).text)
        await pilot.press("enter")
        await until(pilot, lambda: bool(screen.problem))
        assert field.value == ""
        assert runtime_of(app).keys_received == 1
        shown = text_of(screen, "#ob-problem") + text_of(screen, "#ob-recovery")
        assert shown.count("did not take the key") == 1 and wrong not in shown
        assert wrong not in notices(app)
        await pilot.press(*FIXED_KEY, "enter")
        await until(pilot, lambda: runtime_of(app).keys_received == 2 and not screen.busy)
        assert field.value == ""
        assert screen.status is not None
        assert screen.status.step(StepKey.OPENAI).status is StepStatus.COMPLETE
        assert not screen.problem


async def test_an_empty_key_is_not_sent() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.OPENAI)
        await pilot.press("enter")
        await until(pilot, lambda: bool(screen.problem))
        assert "field is empty" in screen.problem
        assert runtime_of(app).keys_received == 0


async def test_leaving_empties_the_key_field_but_keeps_a_typed_directory() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.STATE_ROOT)
        root = screen.query_one("#ob-root", Input)
        assert app.focused is root
        await pilot.press(*"/srv/palyra/tui/rt")
        await select(app, pilot, StepKey.OPENAI)
        await pilot.press(*"sk-half-typed")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("f6")
        await onboarding(app, pilot)
        assert screen.query_one("#ob-key", Input).value == ""
        assert root.value == "/srv/palyra/tui/rt"


async def test_a_directory_outside_is_refused_and_the_text_stays() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.STATE_ROOT)
        await pilot.press(*"/tmp/elsewhere", "enter")
        await until(pilot, lambda: bool(screen.problem))
        shown = text_of(screen, "#ob-problem") + text_of(screen, "#ob-recovery")
        assert shown.count("must stay within") == 1
        assert screen.query_one("#ob-root", Input).value == "/tmp/elsewhere"
        screen.query_one("#ob-root", Input).clear()
        await pilot.press("enter")
        await until(pilot, lambda: not screen.problem and not screen.busy)
        assert runtime_of(app).onboarding_calls[-2:] == [
            "state_root:/tmp/elsewhere",
            "state_root:",
        ]
        assert screen.status is not None
        assert screen.status.step(StepKey.STATE_ROOT).status is StepStatus.COMPLETE


async def test_s_skips_discord_and_nothing_that_may_not_be_skipped() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        await select(app, pilot, StepKey.ENVIRONMENT)
        advance(app, HUMAN_PAUSE)
        await pilot.press("s")
        await until(pilot, lambda: "can be skipped" in notices(app))
        screen = await select(app, pilot, StepKey.DISCORD)
        advance(app, HUMAN_PAUSE)
        await pilot.press("s")
        await until(pilot, lambda: "skip_discord" in runtime_of(app).onboarding_calls)
        await until(
            pilot, lambda: screen.status is not None and screen.status.step(StepKey.DISCORD).skipped
        )
        steps = screen.query_one("#ob-steps", OptionList)
        assert str(steps.get_option_at_index(6).prompt) == "✔ Discord connect and verify (skipped)"


async def test_the_dashboard_step_opens_the_handoff_dialog() -> None:
    """Enter asks the runtime for a handoff of the overview; the runtime marks the step
    done when it hands one out (the fixed runtime only records the ask)."""
    from palyra_tui.models.handoff import HandoffScope
    from palyra_tui.ui.screens.handoff import HandoffScreen

    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        await select(app, pilot, StepKey.DASHBOARD)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        await until(pilot, lambda: runtime_of(app).handoffs == [HandoffScope.overview()])
        assert "dashboard_opened" not in runtime_of(app).onboarding_calls


async def test_completion_finishes_only_when_every_step_is_done() -> None:
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.COMPLETION)
        await pilot.press("enter")
        await until(pilot, lambda: bool(screen.problem))
        assert screen.problem.startswith("Welcome is not done yet")
        runtime_of(app).set_onboarding(onboarding_facts())
        await until(pilot, lambda: screen.status is not None and bool(screen.status.completed_at))
        await select(app, pilot, StepKey.COMPLETION)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_a_working_runtime_opens_on_health_with_the_provider_step_left() -> None:
    """Past operator auth the runtime works: the steps left wait on F6, not in the way."""
    from dataclasses import replace

    from palyra_tui.state.onboarding import OpenAiReadiness

    facts = onboarding_facts()
    facts = replace(
        facts,
        progress=replace(facts.progress, completed_at=None, openai_profile_id=""),
        openai=OpenAiReadiness(False, "", ()),
    )
    app = fixed_app()
    app._onboarding_at_start = True
    status = runtime_of(app).set_onboarding(facts)
    assert status.current is StepKey.OPENAI
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.onboarding is not None)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("f6")
        await onboarding(app, pilot)


async def test_a_notice_shows_in_the_onboarding_key_line_and_then_the_keys_again() -> None:
    """Onboarding covers the control center's key line, so its notices show in its own."""
    app = fixed_app(onboarding=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(app, pilot, StepKey.WELCOME)
        app.notify("only Discord and the dashboard handoff can be skipped", timeout=30)
        await until(pilot, lambda: "can be skipped" in text_of(screen, "#ob-keys"))
        app.notice = None
        await until(pilot, lambda: "can be skipped" not in text_of(screen, "#ob-keys"))
