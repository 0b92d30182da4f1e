"""The operator's preferences in the UI: the theme and terminal notifications come from
the runtime at start, every change goes back to it, and a rollout flag can silence the
terminal whatever the preference says."""

from __future__ import annotations

from palyra_tui.state.alerts import AlertKey
from palyra_tui.state.persisted import Preferences, RolloutFlags
from palyra_tui.state.settings import PreferencesUpdate
from palyra_tui.ui.app import PalyraApp
from tests.snapshots.fixed import fixed_app, fixed_runtime
from tests.ui.conftest import notices, until

SIZE = (110, 32)


def terminal_writes(app: PalyraApp) -> list[str]:
    """What the app writes to its terminal from now on (frames included)."""
    driver = app._driver
    assert driver is not None
    written: list[str] = []
    driver.write = written.append  # type: ignore[method-assign, assignment]
    return written


async def test_the_kept_theme_and_notifications_are_shown_at_start() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    runtime.set_settings(Preferences(notifications=False, theme="nord"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.theme == "nord")
        assert app.terminal_notifications is False
        await pilot.pause()
        assert runtime.preference_updates == [], "a restored theme is not saved again"


async def test_an_unknown_kept_theme_falls_back_to_the_default_with_a_notice() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    runtime.set_settings(Preferences(theme="no-such-theme"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "no-such-theme" in notices(app))
        assert app.theme == app.default_theme
        assert "is not known here" in notices(app)
        await pilot.pause()
        assert runtime.preference_updates == [], "the kept name stays for a version that knows it"


async def test_ctrl_o_and_a_chosen_theme_are_kept_by_the_runtime() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await until(pilot, lambda: app.follower.opened)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: runtime.preference_updates != [])
        assert runtime.preference_updates == [PreferencesUpdate(notifications=False)]
        assert runtime.view().preferences.notifications is False
        app.theme = "gruvbox"  # what the palette's "Theme" command does
        await until(pilot, lambda: len(runtime.preference_updates) == 2)
        assert runtime.preference_updates[1] == PreferencesUpdate(theme="gruvbox")


async def test_a_change_made_in_another_ui_is_applied_and_not_sent_back() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.follower.opened)
        await runtime.update_preferences(PreferencesUpdate(theme="dracula", notifications=False))
        await until(pilot, lambda: app.theme == "dracula")
        assert app.terminal_notifications is False
        await pilot.pause()
        assert len(runtime.preference_updates) == 1, "only the other UI's change"


async def test_with_desktop_notifications_off_no_alert_reaches_the_terminal() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    runtime.set_settings(Preferences(notifications=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.follower.opened and app.terminal_notifications)
        written = terminal_writes(app)
        app.alert(AlertKey("a", "first"), "Run finished", "first")
        assert any("Run finished" in data or data == "\a" for data in written)
        runtime.set_settings(rollout=RolloutFlags(desktop_notifications_enabled=False))
        await until(pilot, lambda: not app.desktop_notifications)
        written.clear()
        app.alert(AlertKey("b", "second"), "Run finished", "second")
        assert "second" in notices(app)
        assert not [data for data in written if "Run finished" in data or "\a" in data]
