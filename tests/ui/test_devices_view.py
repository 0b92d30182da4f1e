"""The gateway's devices on Health (``d``, F9): what it shows and when it asks."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content

from palyra_tui.models.devices import Inventory
from palyra_tui.state.runtime_api import NodeHostRefused
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.widgets.devices_panel import DevicesPanel, ago, describe_inventory
from tests.snapshots.fixed import NOW, FixedRuntime, device_inventory, fixed_app, fixed_runtime
from tests.ui.conftest import advance, until

SIZE = (80, 24)
REFUSAL = "the gateway is not reachable: start it to see its devices"


def recording_app() -> tuple[PalyraApp, FixedRuntime]:
    app = fixed_app()
    runtime = fixed_runtime(app)
    runtime.inventory = device_inventory()
    return app, runtime


def panel_text(app: PalyraApp) -> str:
    rendered = app.main.query_one("#devices-text").render()
    assert isinstance(rendered, Content | Text)
    return rendered.plain


async def health(app: PalyraApp, pilot: Any) -> HealthPane:
    await until(pilot, lambda: app.snapshot is not None)
    pane = app.pane
    assert isinstance(pane, HealthPane)
    return pane


async def test_d_shows_every_device_fact_in_place_of_the_card() -> None:
    app, _runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await health(app, pilot)
        assert not pane.query_one(DevicesPanel).display
        await pilot.press("d")
        await until(pilot, lambda: "01J0NODE0000000000000000AA" in panel_text(app))
        assert not pane.query_one("#detail-box").display
        text = panel_text(app)
        assert "5 devices, 1 trusted, 1 pairing pending" in text
        first = "● 01J0NODE0000000000000000AA  node  trusted  ok  seen 12 s ago  linux-x86_64"
        assert first in text
        assert "capabilities 1 of 2 available: system.run, camera.snap (unavailable)" in text
        assert "▲ warning: certificate expires in 3 days" in text
        assert "\x1b" not in text and "[@click=app.quit]" in text, "shown as text, never run"
        assert "✖ 01J0NODE0000000000000000BB  node  pending  offline  never seen" in text
        assert "no capabilities" in text and "1 pairing request open" in text
        assert "… 3 more devices not listed" in text
        assert "Pending pairings" in text and "Approvals" in text
        assert "◆ 01J0NODE0000000000000000BB  node · method pin · asked 40 s ago" in text
        assert "expires in 9 min" in text
        await pilot.press("d")
        await until(pilot, lambda: bool(pane.query_one("#detail-box").display))
        assert not pane.query_one(DevicesPanel).display


async def test_a_gateway_that_cannot_be_asked_is_said_in_one_line() -> None:
    app, runtime = recording_app()
    runtime.devices_refusal = NodeHostRefused(REFUSAL)
    async with app.run_test(size=SIZE) as pilot:
        await health(app, pilot)
        await pilot.press("d")
        await until(pilot, lambda: REFUSAL in panel_text(app))
        assert f"✖ the gateway cannot be asked: {REFUSAL}" in panel_text(app)
        assert "asking the gateway" not in panel_text(app)
        runtime.devices_refusal = None
        advance(app, 5)
        await until(pilot, lambda: "01J0NODE0000000000000000AA" in panel_text(app))
        assert REFUSAL not in panel_text(app)
        runtime.devices_refusal = NodeHostRefused(REFUSAL)
        advance(app, 5)
        await until(pilot, lambda: REFUSAL in panel_text(app))
        assert "as the gateway last answered" in panel_text(app)
        assert "01J0NODE0000000000000000AA" in panel_text(app), "the last answer stays"


async def test_it_asks_every_few_seconds_while_shown_and_never_when_hidden() -> None:
    app, runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await health(app, pilot)
        await pilot.press("d")
        await until(pilot, lambda: runtime.devices_asked == 1)
        advance(app, 5)
        await until(pilot, lambda: runtime.devices_asked == 2)
        await pilot.press("f2")
        await until(pilot, lambda: not pane.shown)
        advance(app, 30)
        pane.tick_devices()
        await pilot.press("f1")
        await until(pilot, lambda: runtime.devices_asked == 3)  # at once on return
        await pilot.press("d")
        await until(pilot, lambda: not pane.devices_shown)
        advance(app, 30)
        pane.tick_devices()
        await pilot.pause()
        assert runtime.devices_asked == 3
        await pilot.press("d")
        await until(pilot, lambda: runtime.devices_asked == 4)
        app.push_screen(ConfirmScreen("a dialog over it", clock=app.clock))
        await pilot.pause()
        advance(app, 30)
        pane.tick_devices()
        await pilot.pause()
        assert runtime.devices_asked == 4, "not asked while a dialog covers it"


async def test_f9_shows_the_devices_from_any_pane() -> None:
    app, _runtime = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await health(app, pilot)
        await pilot.press("f3")
        await until(pilot, lambda: app.showing("chat"))
        await pilot.press("f9")
        await until(pilot, lambda: app.showing("health") and pane.devices_shown)
        await until(pilot, lambda: "01J0NODE0000000000000000AA" in panel_text(app))
        await pilot.press("f9")
        await until(pilot, lambda: not pane.devices_shown)


def test_before_the_first_answer_it_says_it_is_asking() -> None:
    assert "asking the gateway for its devices…" in describe_inventory(None, "", NOW).plain
    empty = describe_inventory(Inventory(), "", NOW).plain
    assert "the gateway knows no devices" in empty and "press e" in empty


def test_last_seen_reads_in_a_persons_units() -> None:
    assert ago(1_000) == "just now"
    assert ago(12_000) == "12 s ago"
    assert ago(5 * 60_000) == "5 min ago"
    assert ago(3 * 3_600_000) == "3 h ago"
    assert ago(3 * 86_400_000) == "3 d ago"
