"""Notices inform instead of shouting: limited per subject, never about what is on screen,
and never over the composer or the approval detail (fixed data, manual clock)."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._toast import ToastRack

from palyra_tui.models import ExitInfo, ServiceEvent, ServiceState
from palyra_tui.models.clock import ManualClock
from palyra_tui.state.alerts import ALERT_WINDOW, AlertKey, AlertLimiter
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.approvals import ApprovalsPane
from palyra_tui.ui.screens.chat import ChatPane
from tests.snapshots.fixed import NOW, SESSION, fixed_app
from tests.ui.conftest import advance, notices, until

SIZE = (80, 24)


def crash(service: str = "browserd") -> ServiceEvent:
    return ServiceEvent(
        NOW,
        service,
        ServiceState.BACKOFF,
        None,
        reason="exited with code 3",
        exit=ExitInfo(code=3, signal=None, at=NOW, uptime=0.2),
    )


def test_the_limiter_lets_one_alert_through_per_key_and_window() -> None:
    clock = ManualClock()
    limiter = AlertLimiter(clock)
    gateway = AlertKey("gateway", "ended")
    assert limiter.admit(gateway) == 0
    assert limiter.admit(gateway) is None
    assert limiter.admit(AlertKey("browserd", "ended")) == 0, "another service has its own"
    assert limiter.admit(AlertKey("gateway", "unhealthy")) == 0, "another kind has its own"
    assert limiter.admit(gateway) is None
    clock.advance(ALERT_WINDOW)
    assert limiter.admit(gateway) == 2


def count(app: PalyraApp, text: str) -> int:
    return sum(text in notice.text for notice in app.notice_history)


async def test_a_crash_loop_alerts_once_per_window_without_repeating_itself() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        for _ in range(5):
            app.follower.service_event(crash())
        await until(pilot, lambda: "browserd ended" in notices(app))
        assert count(app, "browserd ended") == 1
        assert "exited with code 3; exited with code 3" not in notices(app)
        advance(app, ALERT_WINDOW + 1)
        app.follower.service_event(crash())
        await until(pilot, lambda: "4 similar alerts held back" in notices(app))


async def test_nothing_is_announced_that_is_already_on_screen() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.inbox))
        await pilot.press("4")
        assert isinstance(app.pane, ApprovalsPane)
        app.notice_history.clear()
        app.follower.known_approvals.clear()
        app._alerts = AlertLimiter(app.clock)
        app.follower.inbox_changed(app.inbox)
        await pilot.press("f1")
        app.follower.service_event(crash())
        await pilot.press("f3")
        chat = app.pane
        assert isinstance(chat, ChatPane)
        await until(pilot, lambda: chat.session_id == SESSION)
        app.follower.run_finished(SESSION, "run done")
        await pilot.pause()
        assert notices(app) == ""
        app.follower.run_finished("01JQ7P4NQ2T7K5XG0C9M3E8ZZZ", "run done elsewhere")
        await until(pilot, lambda: "run done elsewhere" in notices(app))


async def test_notices_sit_in_the_key_line_not_over_the_composer() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("3")
        app.notify("a notice for the operator")
        keys = app.screen.query_one(".keys", Static)
        await until(pilot, lambda: "a notice for the operator" in str(keys.render()))
        assert not app.screen.get_child_by_type(ToastRack).display
        assert not app._notifications, "no floating toast"
