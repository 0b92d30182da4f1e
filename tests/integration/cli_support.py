"""A real runtime host over the reference daemons, and the CLI run against it as a script would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from palyra_tui.cli.demo import demo_document, sim_command
from palyra_tui.config import Config, load_config
from palyra_tui.config.profiles import CATALOG_ENV
from palyra_tui.errors import HostError
from palyra_tui.host.launcher import ensure_host, stop_host
from tests.conftest import pids_alive


@dataclass(frozen=True)
class Ran:
    """What one CLI command did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> Any:
        """The ``--json`` error object on stderr."""
        return json.loads(self.err)


def write_config(root: Path, extra: dict[str, object] | None = None, **top: object) -> Path:
    """The demo's daemons (browserd off) plus ``extra`` services, rooted in ``root``."""
    document = demo_document(root / "state")
    services = document["services"]
    assert isinstance(services, dict)
    services["browserd"] = {"command": sim_command("browserd", "--port", "0"), "enabled": False}
    services.update(extra or {})
    document.update(top)
    path = root / "tui.toml"
    path.write_text(tomli_w.dumps(document))
    return path


def cli_env(path: Path) -> dict[str, str]:
    keep = ("PALYRA_TUI_SECRET_BACKEND", "PALYRA_CLI_PROFILES_PATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALYRA_") or k in keep}
    env["PALYRA_TUI_CONFIG"] = str(path)
    return env


async def run_cli(path: Path, *args: str, timeout: float = 120.0) -> Ran:
    """``palyra-tui ARGS`` with the config at ``path``, as its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(path),
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"palyra-tui {' '.join(args)} did not finish") from None
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def until_cli(
    path: Path, args: tuple[str, ...], done: Callable[[Ran], bool], timeout: float = 60.0
) -> Ran:
    """Run the command again until ``done`` holds for what it printed."""
    deadline = time.monotonic() + timeout
    while True:
        ran = await run_cli(path, *args)
        if done(ran) or time.monotonic() > deadline:
            return ran
        await asyncio.sleep(0.1)


@dataclass
class Host:
    config: Config
    path: Path
    pid: int

    async def cli(self, *args: str, timeout: float = 120.0) -> Ran:
        return await run_cli(self.path, *args, timeout=timeout)


StartHost = Callable[..., Awaitable[Host]]


def use_catalog(monkeypatch: pytest.MonkeyPatch, path: Path, text: str) -> Path:
    """A profile catalog at ``path`` holding ``text``, the one every host and command reads."""
    path.write_text(text)
    monkeypatch.setenv(CATALOG_ENV, str(path))
    return path


async def start_hosts(tmp_path: Path) -> AsyncIterator[StartHost]:
    """``await host(extra_services, **top)`` starts a detached host, stopped afterwards."""
    started: list[Host] = []

    async def start(extra: dict[str, object] | None = None, **top: object) -> Host:
        path = write_config(tmp_path, extra, **top)
        config = load_config(path)
        info = await ensure_host(config, path, cli_env(path))
        started.append(Host(config, path, info.host_pid))
        return started[-1]

    yield start
    for running in started:
        await stop(running.config, running.pid)


async def stop(config: Config, pid: int) -> None:
    """Stop the host of ``config`` (pid ``pid``); kill it if it does not stop."""
    try:
        await stop_host(config, 60)
    except HostError:
        # A handshake that lands while the host shuts its socket is refused; the host
        # stops all the same.
        deadline = time.monotonic() + 60
        while pids_alive([pid]) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        if pids_alive([pid]):
            os.kill(pid, signal.SIGKILL)
