"""Enrolling, repairing and resetting the node host from Health (fixed data, manual clock)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.command import CommandList
from textual.content import Content
from textual.widget import Widget

from palyra_tui.config.profiles import parse_catalog
from palyra_tui.models.devices import NodeAction
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.palette import palette_commands
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.widgets.process_table import ProcessTable
from tests.snapshots.fixed import FixedRuntime, fixed_app, fixed_runtime
from tests.ui.conftest import HUMAN_PAUSE, advance, notices, until

SIZE = (80, 24)
NODE_ROW = 2
"""The fixed services are gateway, browserd, node_host."""


def recording_app() -> tuple[PalyraApp, FixedRuntime]:
    app = fixed_app()
    return app, fixed_runtime(app)


def shown(widget: Widget) -> str:
    rendered = widget.render()
    assert isinstance(rendered, Content | Text)
    return rendered.plain


def key_line(app: PalyraApp) -> str:
    return shown(app.main.query_one(".keys"))


def card(app: PalyraApp) -> str:
    return shown(app.main.query_one("#detail"))


def question(app: PalyraApp) -> str:
    return shown(app.screen.query_one(".question"))


async def on_row(app: PalyraApp, pilot: Any, row: int) -> HealthPane:
    await until(pilot, lambda: app.snapshot is not None)
    pane = app.pane
    assert isinstance(pane, HealthPane)
    pane.query_one(ProcessTable).move_cursor(row=row)
    await pilot.pause()
    app.notice = None
    advance(app, HUMAN_PAUSE)
    return pane


async def test_e_on_the_node_host_row_asks_then_enrols() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, NODE_ROW)
        await until(pilot, lambda: "press e to enrol" in card(app))
        assert " e  Enrol " in key_line(app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        asked = question(app)
        assert "Enrol the node host" in asked
        assert "restarted twice" in asked and "client certificates not required" in asked
        assert "loopback only" in asked and "Runs in flight are cut" in asked
        assert "Then the node host starts" in asked
        assert runtime.node_calls == [], "nothing happens before the operator confirms"
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.node_calls == [(NodeAction.ENROLL, True)])
        await until(pilot, lambda: "node host enrolled and started" in notices(app))
        assert "enrolling the node host…" in notices(app)
        assert "the gateway was restarted twice" in notices(app)


async def test_cancelling_the_question_enrols_nothing() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, NODE_ROW)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert isinstance(app.screen, ConfirmScreen), "yes counts only once it was readable"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        assert runtime.node_calls == []


async def test_enrolment_runs_while_the_screen_goes_on() -> None:
    app, runtime = recording_app()
    runtime.node_pause = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_row(app, pilot, NODE_ROW)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.node_calls == [(NodeAction.ENROLL, True)])
        await until(pilot, lambda: "enrolling the node host…" in card(app))
        assert "enrolling the node host…" in key_line(app)
        await pilot.press("up")
        await until(pilot, lambda: pane.query_one(ProcessTable).selected_service == "browserd")
        advance(app, HUMAN_PAUSE)
        app.notice_history.clear()
        await pilot.press("e")
        await until(pilot, lambda: "already being enrolled" in notices(app))
        runtime.node_pause.set()
        await until(pilot, lambda: "node host enrolled and started" in notices(app))
        await pilot.press("down")
        await until(pilot, lambda: "enrolling" not in card(app))
        assert runtime.node_calls == [(NodeAction.ENROLL, True)]


async def test_a_refusal_is_told_in_one_sentence() -> None:
    from palyra_tui.state.runtime_api import NodeHostRefused

    app, runtime = recording_app()

    async def refuse(action: NodeAction, restart_confirmed: bool = False) -> Any:
        runtime.node_calls.append((action, restart_confirmed))
        raise NodeHostRefused("the gateway is not healthy yet: wait for it, then try again")

    runtime.node_host = refuse  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, NODE_ROW)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(
            pilot,
            lambda: (
                "the node host was not enrolled: the gateway is not healthy yet" in notices(app)
            ),
        )
        await until(pilot, lambda: "press e to enrol" in card(app))


async def test_e_is_refused_on_another_row() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, 0)
        assert " e  Enrol " not in key_line(app), "e shows only where it acts"
        await pilot.press("e")
        await until(pilot, lambda: "select its row first" in notices(app))
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert runtime.node_calls == []


async def test_e_is_refused_for_a_remote_profile() -> None:
    app, runtime = recording_app()
    remote = parse_catalog(
        {"profiles": {"far": {"daemon_url": "https://gw.example.net:7443"}}}, "profiles.toml"
    )
    runtime.set_catalog(remote, "far")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.profile.remote)
        await on_row(app, pilot, NODE_ROW)
        await pilot.press("e")
        await until(pilot, lambda: "this profile's gateway is remote" in notices(app))
        app.notice_history.clear()
        reset = next(
            c for c in palette_commands(app, app.screen, []) if c.title == "Reset node host"
        )
        await reset.callback()
        await until(pilot, lambda: "this profile's gateway is remote" in notices(app))
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert runtime.node_calls == []


async def test_an_e_typed_in_a_word_never_enrols() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, NODE_ROW)
        await pilot.press(*"see the node")
        await pilot.pause()
        advance(app, HUMAN_PAUSE)
        await pilot.press("e", "c", "h", "o")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        assert not isinstance(app.screen, ConfirmScreen)
        assert runtime.node_calls == [] and runtime.calls == []
        advance(app, HUMAN_PAUSE)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))


async def test_the_palette_enrols_repairs_and_resets_each_after_asking() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, 0)
        commands = {c.title: c for c in palette_commands(app, app.screen, [])}
        assert {"Enrol node host", "Repair node host", "Reset node host", "Devices"} <= set(
            commands
        )
        assert "Enrol" not in commands, "the key e is offered once, by its full name"

        await commands["Reset node host"].callback()
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Reset the node host" in question(app) and "identity" in question(app)
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert runtime.node_calls == [], "reset needs the confirmation"
        await commands["Reset node host"].callback()
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.node_calls == [(NodeAction.RESET, False)])
        await until(pilot, lambda: "node host stopped and uninstalled" in notices(app))

        advance(app, HUMAN_PAUSE)
        await commands["Repair node host"].callback()
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Repair the node host" in question(app) and "restarted twice" in question(app)
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.node_calls[-1] == (NodeAction.REPAIR, True))

        advance(app, HUMAN_PAUSE)
        await commands["Enrol node host"].callback()
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Enrol the node host" in question(app), "from the palette, any row will do"


async def test_reset_from_the_palette_itself_asks_first() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_row(app, pilot, 0)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"Reset node host")
        results = app.screen.query_one(CommandList)

        def found() -> bool:
            option = results.highlighted_option
            return option is not None and "Reset node host" in str(option.prompt)

        await until(pilot, found)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Reset the node host" in question(app)
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: runtime.node_calls == [(NodeAction.RESET, False)])
