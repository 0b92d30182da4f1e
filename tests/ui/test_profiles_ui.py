"""Switching profiles from the control center: the header, the palette, the confirmations."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from palyra_tui.config.profiles import parse_catalog
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.palette import palette_commands
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.screens.profiles import ProfilePicker, TypedNameScreen
from palyra_tui.ui.widgets.process_table import ProcessTable
from palyra_tui.ui.widgets.steady import SteadyStatic
from tests.snapshots.fixed import FixedRuntime, fixed_app, fixed_runtime
from tests.ui.conftest import HUMAN_PAUSE, advance, notices, until

SIZE = (120, 30)
CATALOG = parse_catalog(
    {
        "profiles": {
            "lab": {"daemon_url": "http://127.0.0.1:7142", "label": "Lab"},
            "staging": {"daemon_url": "http://127.0.0.1:7142", "strict_mode": True},
        }
    },
    "profiles.toml",
)


def app_with_catalog(active: str = "") -> tuple[PalyraApp, FixedRuntime]:
    app = fixed_app()
    runtime = fixed_runtime(app)
    runtime.set_catalog(CATALOG, active)
    return app, runtime


def header(app: PalyraApp) -> str:
    shown = app.main.query_one(".tabs", SteadyStatic).render()
    assert isinstance(shown, Content | Text)
    return shown.plain


async def test_the_header_names_the_profile_and_its_risk_in_words() -> None:
    app, _ = app_with_catalog("staging")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "staging · high risk · strict" in header(app))


async def test_the_palette_offers_switch_profile() -> None:
    app, _ = app_with_catalog()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [command.title for command in palette_commands(app, app.screen, [])]
        assert "Switch profile…" in titles


async def test_a_stray_enter_in_the_picker_switches_nothing() -> None:
    app, runtime = app_with_catalog()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("enter")
        await until(pilot, lambda: "already using the profile 'local'" in notices(app))
        assert runtime.switches == []


async def test_a_strict_profile_needs_its_name_typed_exactly() -> None:
    app, runtime = app_with_catalog()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TypedNameScreen))
        await pilot.press(*"Staging", "enter")
        await pilot.press("y", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TypedNameScreen)
        assert runtime.switches == []
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TypedNameScreen))
        assert runtime.switches == []
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TypedNameScreen))
        await pilot.press(*"staging", "enter")
        await until(pilot, lambda: runtime.switches == ["staging"])
        await until(pilot, lambda: "staging · high risk · strict" in header(app))
        await until(pilot, lambda: "switched to the profile 'staging'" in notices(app))


async def test_another_profile_is_switched_to_only_once_confirmed() -> None:
    app, runtime = app_with_catalog()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ProfilePicker))
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # before the question could be read: nothing
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert runtime.switches == []
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.switches == ["lab"])
        await until(pilot, lambda: "Lab · elevated risk" not in header(app))
        await until(pilot, lambda: "Lab · low risk" in header(app))


async def test_a_remote_profile_shows_no_local_service() -> None:
    app = fixed_app()
    runtime = fixed_runtime(app)
    remote = parse_catalog(
        {"profiles": {"far": {"daemon_url": "https://ops:secret@gw.example.net:7443/x"}}},
        "profiles.toml",
    )
    runtime.set_catalog(remote, "far")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        assert isinstance(pane, HealthPane)
        facts = pane.query_one("#facts", SteadyStatic)

        def shown() -> str:
            rendered = facts.render()
            assert isinstance(rendered, Content | Text)
            return rendered.plain

        await until(pilot, lambda: "remote, not supervised" in shown())
        assert "https://gw.example.net:7443" in shown() and "secret" not in shown()
        assert pane.query_one(ProcessTable).selected_service is None
        assert "far · elevated risk · remote" in header(app)
