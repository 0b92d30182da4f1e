"""Shared fixtures: isolation from the developer's config, child commands, waiting helpers."""

from __future__ import annotations

import os

# Before any test module imports grpc: with fork support on, a process started while
# a grpc poller runs can abort between fork and exec ("epoll_wait error: Bad file
# descriptor"), which palyra-tui's own entry points already prevent.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from palyra_tui.config import Config, parse_config
from palyra_tui.models import ServiceEvent, ServiceState
from palyra_tui.supervisor import Supervisor
from palyra_tui.supervisor.subscriptions import EventSubscription

CHILD_SCRIPT = Path(__file__).parent / "fixtures" / "child.py"


def child(*args: str) -> list[str]:
    """The command line of the test child performing ``args``."""
    return [sys.executable, str(CHILD_SCRIPT), *args]


@pytest.fixture(autouse=True)
def no_discovered_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's own config, state, binaries and keyring out of every test.

    Tokens go to the private file in the test's state root: a developer's desktop
    keyring would otherwise collect an entry for every temporary state root.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("PALYRA_TUI_SECRET_BACKEND", "file")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    for name in (
        "PALYRA_TUI_CONFIG",
        "PALYRA_STATE_ROOT",
        "PALYRA_CLI_PROFILES_PATH",
        "PALYRA_DESKTOP_PALYRAD_BIN",
        "PALYRA_DESKTOP_BROWSERD_BIN",
        "PALYRA_DESKTOP_PALYRA_BIN",
    ):
        monkeypatch.delenv(name, raising=False)


def make_config(
    tmp_path: Path,
    services: dict[str, dict[str, Any]],
    *,
    builtins: bool = False,
    **top: Any,
) -> Config:
    """A config with the given services; built-ins are disabled unless asked for."""
    table: dict[str, Any] = {}
    if not builtins:
        table = {"gateway": {"enabled": False}, "browserd": {"enabled": False}}
    table.update(services)
    document = {"state_root": str(tmp_path / "state"), "services": table, **top}
    return parse_config(document, tmp_path / "tui.toml", {})


@pytest.fixture
def config_factory(tmp_path: Path) -> Callable[..., Config]:
    """``config_factory({"name": {...}})`` builds a config rooted in ``tmp_path``."""

    def build(services: dict[str, dict[str, Any]], **kwargs: Any) -> Config:
        return make_config(tmp_path, services, **kwargs)

    return build


@pytest.fixture
async def open_supervisor() -> AsyncIterator[Callable[..., Supervisor]]:
    """``open_supervisor(config, **kwargs)`` opens a supervisor closed after the test."""
    opened: list[Supervisor] = []

    def factory(config: Config, **kwargs: Any) -> Supervisor:
        supervisor = Supervisor(config, **kwargs).open()
        opened.append(supervisor)
        return supervisor

    yield factory
    for supervisor in opened:
        await supervisor.aclose(timeout=20)


async def next_state(
    events: EventSubscription,
    service: str,
    state: ServiceState,
    timeout: float = 30.0,
) -> ServiceEvent:
    """Wait for ``service`` to reach ``state``; fail with what happened instead."""
    seen: list[str] = []

    async def watch() -> ServiceEvent:
        async for event in events:
            seen.append(f"{event.service}:{event.state.value}")
            if event.service == service and event.state is state:
                return event
        raise AssertionError(f"event feed ended before {service} became {state.value}")

    try:
        return await asyncio.wait_for(watch(), timeout)
    except TimeoutError:
        raise AssertionError(
            f"{service} did not become {state.value} within {timeout} s; saw {seen}"
        ) from None


def pids_alive(pids: list[int]) -> list[int]:
    """The pids of ``pids`` that still exist and are not zombies."""
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


async def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` passes (False).

    For waiting on real processes to do something, not for timing logic.  The
    deadline is generous: it only bounds how long a broken test hangs.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def block_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Like :func:`eventually`, but without ever yielding to the calling event loop.

    A test calls this to prove that something happens while its own loop is
    stalled, as a loop is behind a terminal that stopped reading.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


async def wait_for_output(supervisor: Supervisor, name: str, text: str) -> None:
    """Wait until service ``name`` printed the line ``text``."""
    assert await eventually(lambda: any(line.text == text for line in supervisor.tail(name, 50))), (
        f"{name} never printed {text!r}"
    )
