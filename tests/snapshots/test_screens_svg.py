"""SVG snapshots of each screen with fixed data and a fixed clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from palyra_tui.state.inbox import from_record
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.screens.main import PANE_NAMES
from palyra_tui.ui.widgets.devices_panel import DevicesPanel
from tests.snapshots.fixed import device_inventory, fixed_app, fixed_runtime, pairing_approval
from tests.ui.conftest import until

SIZE = (100, 30)
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def stable_rendering(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UTC times and no blinking cursor, so every run draws the same frame."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda _self: None, raising=False)
    yield
    os.environ.pop("TZ", None)
    time.tzset()


async def _settle(pilot: Pilot[Any]) -> None:
    """Wait until the frame can no longer change: data shown, every pane mounted, the Health
    card's last lines fetched, focus given, the notice of the first approval up (no fixed
    pause: a loaded machine is slow)."""
    app = pilot.app
    assert isinstance(app, PalyraApp)

    def settled() -> bool:
        panes = [app.main.mounted_pane(name) for name in PANE_NAMES]
        health = app.main.mounted_pane("health")
        return (
            app.snapshot is not None
            and all(pane is not None and pane.is_mounted for pane in panes)
            and isinstance(health, HealthPane)
            and health.detail_settled
            and app.focused is not None
            and app.notice is not None
        )

    await until(pilot, settled)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def test_health_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, run_before=_settle)


def test_logs_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["2"], run_before=_settle)


def test_chat_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["3"], run_before=_settle)


def test_approvals_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["4"], run_before=_settle)


async def _settle_keys_shown(pilot: Pilot[Any]) -> None:
    """Settled, with the first notice gone, so the key line shows the keys."""
    await _settle(pilot)
    app = pilot.app
    assert isinstance(app, PalyraApp)
    app.notice = None
    await pilot.pause()


def test_onboarding_screen(snap_compare: SnapCompare) -> None:
    """The Environment step of a machine without palyrad: the checks and what to do."""
    assert snap_compare(
        fixed_app(onboarding=True),
        terminal_size=(110, 34),
        press=["enter"],
        run_before=_settle_keys_shown,
    )


def _devices_app() -> PalyraApp:
    """The fixed app whose gateway knows two devices (one with a warning), three more not
    listed, and a pending pairing."""
    app = fixed_app()
    fixed_runtime(app).inventory = device_inventory()
    return app


async def _settle_devices(pilot: Pilot[Any]) -> None:
    """Settled, the devices panel open with the gateway's answer in it."""
    await _settle_keys_shown(pilot)
    app = pilot.app
    assert isinstance(app, PalyraApp)
    await pilot.press("d")
    health = app.pane
    assert isinstance(health, HealthPane)
    panel = health.query_one(DevicesPanel)
    await until(pilot, lambda: panel.inventory is not None and not panel.asking)
    await pilot.pause()


def test_health_devices_at_80x24(snap_compare: SnapCompare) -> None:
    """The smallest terminal the operator is promised: the devices in place of the card."""
    assert snap_compare(_devices_app(), terminal_size=(80, 24), run_before=_settle_devices)


def _pairing_app() -> PalyraApp:
    app = fixed_app()
    fixed_runtime(app).set_inbox(from_record(pairing_approval()))
    return app


def test_approvals_device_pairing(snap_compare: SnapCompare) -> None:
    """A device's request to pair: the device, and no session key."""
    assert snap_compare(
        _pairing_app(), terminal_size=SIZE, press=["4"], run_before=_settle_keys_shown
    )
