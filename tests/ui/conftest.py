"""The control center over the real reference daemons, for Pilot tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.style import Style
from textual.pilot import Pilot
from textual.strip import Strip

from palyra_tui.cli.demo import demo_config, demo_environ
from palyra_tui.models import HealthState, ServiceState
from palyra_tui.models.clock import ManualClock
from palyra_tui.state.runtime_api import RuntimeMessage
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.launch import build_app


@pytest.fixture
async def demo_app(tmp_path: Path) -> AsyncIterator[PalyraApp]:
    """The app with the demo runtime started (real processes, real sockets).

    Its clock moves only when a test advances it (:func:`advance`), so arming
    and typing guards behave the same on a loaded machine.
    """
    app, supervisor = build_app(
        demo_config(tmp_path / "state"),
        environ=demo_environ(),
        interval=0.2,
        clock=ManualClock(time.time()),
    )
    await supervisor.start_all()
    try:
        yield app
    finally:
        await supervisor.aclose(timeout=20)


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20) -> None:
    """Let the app run until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


async def until_unpiloted(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Like :func:`until`, without the pilot's pauses, which draw the screen themselves."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def strip_cells(strip: Strip) -> list[tuple[str, Style]]:
    """The cells of ``strip``: each character with its style, without the mouse offsets
    ``Static`` adds to its styles."""
    return [
        (char, (segment.style or Style()).clear_meta_and_links())
        for segment in strip
        for char in segment.text
    ]


HUMAN_PAUSE = 1.5
"""A pause between two deliberate keys: longer than every guard's delay."""


def advance(app: PalyraApp, seconds: float) -> None:
    """Move the app's manual clock forward."""
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds)


def notices(app: PalyraApp) -> str:
    """The notices the app has shown lately, one per line."""
    return "\n".join(notice.text for notice in app.notice_history)


def gateway_ready(app: PalyraApp) -> bool:
    snapshot = app.snapshot
    if snapshot is None or snapshot.gateway_health is None:
        return False
    gateway = snapshot.supervisor.get("gateway")
    return (
        gateway is not None
        and gateway.state is ServiceState.RUNNING
        and gateway.health.state is HealthState.HEALTHY
    )


def record_messages(app: PalyraApp) -> list[RuntimeMessage]:
    """Every message the app's runtime sends from now on, as it arrives."""
    received: list[RuntimeMessage] = []
    feed = app.runtime.subscribe()

    async def collect() -> None:
        async for message in feed:
            received.append(message)

    app.run_worker(collect(), exit_on_error=False)
    return received


async def settle() -> None:
    await asyncio.sleep(0)
