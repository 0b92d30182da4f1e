"""What the runtime keeps for the UI across restarts: the place on show, and its word on
the state file; and a message it refused is given back, not lost."""

from __future__ import annotations

import asyncio

from palyra_tui.state.persisted import Place, Section
from palyra_tui.state.runtime_api import StateNotice
from palyra_tui.ui.screens.chat import ChatPane, Composer
from palyra_tui.ui.screens.logs import LogsPane
from tests.snapshots.fixed import SESSION, fixed_app, fixed_runtime
from tests.ui.conftest import notices, until

SIZE = (110, 32)


async def test_the_remembered_pane_and_session_are_on_show_at_start() -> None:
    app = fixed_app(attached=True)
    fixed_runtime(app).set_place(Place(Section.CHAT, SESSION))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.pane, ChatPane))
        chat = app.pane
        assert isinstance(chat, ChatPane)
        await until(pilot, lambda: chat.session_id == SESSION)


async def test_a_pane_chosen_before_the_runtime_opens_is_not_taken_away() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    runtime.set_place(Place(Section.CHAT, SESSION))
    runtime.opening = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.pane, LogsPane))
        runtime.opening.set()
        await until(pilot, lambda: app.follower.returned)
        assert isinstance(app.pane, LogsPane)


async def test_each_pane_and_session_shown_is_remembered_once() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("f2")
        await until(
            pilot, lambda: bool(runtime.places) and runtime.places[-1].section is Section.LOGS
        )
        await pilot.press("f3")
        await until(pilot, lambda: runtime.places[-1] == Place(Section.CHAT, SESSION))
        await pilot.press("f3", "f1")
        await until(pilot, lambda: runtime.places[-1].section is Section.HEALTH)
    assert [place.section for place in runtime.places].count(Section.CHAT) == 1


async def test_what_the_runtime_says_about_its_state_file_is_shown() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        fixed_runtime(app).push(StateNotice("The state file /x/state.json was moved aside."))
        await until(pilot, lambda: "moved aside" in notices(app))


async def test_a_refused_message_is_given_back_to_the_composer() -> None:
    app = fixed_app()
    fixed_runtime(app).send_refusal = "the gateway is unreachable and offline drafts are off"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        chat = app.pane
        assert isinstance(chat, ChatPane)
        await until(pilot, lambda: chat.session_id == SESSION)
        composer = chat.query_one(Composer)
        composer.focus()
        await pilot.press(*"hello there", "enter")
        await until(pilot, lambda: "not sent: the gateway is unreachable" in notices(app))
        assert composer.text == "hello there"
