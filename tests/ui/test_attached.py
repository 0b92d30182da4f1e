"""The control center attached to a runtime host: detach, stop everything, a lost host."""

from __future__ import annotations

from textual.widgets import Static

from palyra_tui.errors import HostError
from palyra_tui.models.clock import ManualClock
from palyra_tui.state.runtime_api import ClientsChanged, LinkChanged
from palyra_tui.ui.app import RESTART_HOST, PalyraApp
from palyra_tui.ui.leaving import DETACHED, STOPPED
from palyra_tui.ui.screens.chat import ChatPane, Composer
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.widgets.process_table import ProcessTable
from palyra_tui.ui.widgets.status_bar import StatusBar
from tests.snapshots.fixed import NOW, SESSION, FixedRuntime, fixed_app, fixed_runtime
from tests.ui.conftest import HUMAN_PAUSE, advance, until

SIZE = (100, 30)


def status(app: PalyraApp) -> str:
    return str(app.main.query_one(StatusBar).render())


async def test_q_detaches_at_once_and_stops_nothing() -> None:
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        advance(app, HUMAN_PAUSE)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.outcome == DETACHED and "palyra-tui down" in app.outcome
    assert fixed_runtime(app).calls == []


async def test_detaching_with_typed_text_asks_first() -> None:
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("f3")
        chat = app.pane
        assert isinstance(chat, ChatPane)
        await until(pilot, lambda: chat.session_id == SESSION)
        await pilot.press(*"half a thought")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".question", Static).render())
        assert "1 session with text typed" in question
        await pilot.press("escape")
        assert app.is_running
        assert chat.query_one(Composer).text == "half a thought"
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)
    assert app.outcome == DETACHED


async def test_quitting_an_in_process_runtime_still_asks_before_stopping() -> None:
    app = PalyraApp(FixedRuntime(), notifications=False, clock=ManualClock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".question", Static).render())
        assert question.startswith("Stop gateway")
        await pilot.press("escape")
        assert app.is_running and fixed_runtime(app).calls == []


async def test_f10_asks_then_stops_the_host() -> None:
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".question", Static).render())
        assert "Stop every service and the runtime host" in question
        await pilot.press("escape")
        assert fixed_runtime(app).calls == []
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)
    assert fixed_runtime(app).calls == [("shutdown",)]
    assert app.outcome == STOPPED


async def test_a_lost_host_is_said_and_a_new_one_offered() -> None:
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        fixed_runtime(app).push(LinkChanged(False, "the runtime host closed the connection"))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "runtime host lost: the runtime host closed" in status(app)
        assert status(app).startswith(" offline ") and "host · " not in status(app)
        table = app.main.query_one(ProcessTable)
        assert table.row_count == 0, "no service is shown as running once the host is gone"
        assert app.inbox == ()
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)
    assert app.return_code == RESTART_HOST


async def test_the_status_bar_counts_attached_clients() -> None:
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        fixed_runtime(app).push(ClientsChanged(2))
        await until(pilot, lambda: "host · 2 clients" in status(app))


async def test_logs_are_followed_only_once_the_logs_pane_is_shown() -> None:
    """Attached over a socket, following every service's backlog costs memory and CPU."""
    app = fixed_app(attached=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.main.mounted_pane("logs") is not None)
        await pilot.pause()
        assert fixed_runtime(app).log_subscriptions == 0
        await pilot.press("f2")
        await until(pilot, lambda: fixed_runtime(app).log_subscriptions == 1)
        await pilot.press("f1", "f2")
        await pilot.pause()
        assert fixed_runtime(app).log_subscriptions == 1


async def test_a_host_that_cannot_be_reached_at_all_ends_the_app_with_the_reason() -> None:
    """The app draws before its host has started; when none can be started, the
    launcher is handed the reason, not a "host lost" question about a host never seen."""
    app = fixed_app(attached=True)
    failure = HostError("the runtime host did not start: it exited with code 1")
    fixed_runtime(app).open_failure = failure
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: not app.is_running)
    assert app.open_error is failure
    assert app.outcome == ""


async def test_an_in_process_runtime_that_fails_to_open_keeps_the_app_and_says_why() -> None:
    app = fixed_app()
    fixed_runtime(app).open_failure = HostError("it is gone")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link_lost == "it is gone")
        assert app.is_running and app.open_error is None
