"""SVG snapshots of each screen with fixed data and a fixed clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.snapshots.fixed import fixed_app

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
    await pilot.pause(0.3)


def test_health_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, run_before=_settle)


def test_logs_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["2"], run_before=_settle)


def test_chat_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["3"], run_before=_settle)


def test_approvals_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SIZE, press=["4"], run_before=_settle)


def test_onboarding_screen(snap_compare: SnapCompare) -> None:
    """The Environment step of a machine without palyrad: the checks and what to do."""
    assert snap_compare(
        fixed_app(onboarding=True), terminal_size=(110, 34), press=["enter"], run_before=_settle
    )
