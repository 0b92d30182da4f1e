"""F5: the runtime's notifications, newest first, marked read one at a time or all."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from palyra_tui.ui.screens.notifications import NotificationsScreen
from palyra_tui.ui.screens.pager import PagerScreen
from palyra_tui.ui.widgets.status_bar import StatusBar
from tests.snapshots.fixed import fixed_app, fixed_runtime
from tests.ui.conftest import until

SIZE = (110, 32)


async def test_notifications_are_listed_and_marked_read() -> None:
    app = fixed_app()
    runtime = fixed_runtime(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        runtime.notify("Run finished", "deploy checks completed")
        runtime.notify("Approvals waiting", "2 approvals now need review.")
        await until(pilot, lambda: "│ 2 unread" in str(app.main.query_one(StatusBar).render()))
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, NotificationsScreen))
        options = app.screen.query_one(OptionList)
        assert options.option_count == 2
        newest = str(options.get_option_at_index(0).prompt)
        assert "Approvals waiting" in newest and "●" in newest
        await pilot.press("r")
        await until(pilot, lambda: [n.read for n in app.notifications] == [False, True])
        await until(pilot, lambda: "│ 1 unread" in str(app.main.query_one(StatusBar).render()))
        await pilot.press("a")
        await until(pilot, lambda: all(n.read for n in app.notifications))
        await until(pilot, lambda: "unread" not in str(app.main.query_one(StatusBar).render()))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, NotificationsScreen))


async def test_the_views_own_notices_are_one_key_away() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        long = "decision not sent: " + "a long reason " * 20 + "and its end"
        app.notify(long, severity="error", markup=False)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, NotificationsScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        body = str(app.screen.query_one("#pager-body Static", Static).render())
        assert "and its end" in body.replace("\n", " ")
