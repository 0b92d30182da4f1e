"""``palyra-tui up`` and ``down``: a script starts the runtime, waits for health, stops it."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from palyra_tui.config import load_config
from palyra_tui.host.launcher import probe, stop_host
from tests.conftest import child, pids_alive
from tests.integration.cli_support import run_cli, write_config


@pytest.fixture
async def configs(tmp_path: Path) -> AsyncIterator[list[Path]]:
    """Config files whose hosts are stopped after the test, whoever started them."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        config = load_config(path)
        found = await probe(config)
        if found is not None:
            try:
                await stop_host(config, 60)
            finally:
                if pids_alive([found.host_pid]):
                    os.kill(found.host_pid, signal.SIGKILL)


async def test_up_waits_for_a_healthy_gateway_and_down_stops_everything(
    tmp_path: Path, configs: list[Path]
) -> None:
    path = write_config(tmp_path)
    configs.append(path)
    up = await run_cli(path, "up", "--json")
    assert up.code == 0, up.err
    document = up.json()
    assert document["started"] is True
    assert document["gateway"]["connection"] == "connected" and document["gateway"]["version"]
    host_pid = document["host"]["pid"]
    status = await run_cli(path, "status", "--json")
    assert status.code == 0, status.err
    assert status.json()["gateway"]["connection"] == "connected"
    assert status.json()["host"]["pid"] == host_pid
    service_pids = [s["pid"] for s in status.json()["services"] if s["pid"] is not None]
    again = await run_cli(path, "up")
    assert again.code == 0
    assert again.out.startswith(f"runtime host pid {host_pid} already running; gateway ")
    down = await run_cli(path, "down")
    assert down.code == 0, down.err
    assert pids_alive([host_pid, *service_pids]) == []
    assert (await run_cli(path, "status")).code == 4
    assert (await run_cli(path, "down")).code == 4


async def test_up_fails_with_the_reason_when_the_gateway_gives_up(
    tmp_path: Path, configs: list[Path]
) -> None:
    broken = {"command": child("exit", "7"), "max_restarts": 1}
    path = write_config(tmp_path, {"gateway": broken})
    configs.append(path)
    up = await run_cli(path, "up", "--json")
    assert up.code == 5
    error = up.error()
    assert error["code"] == 5
    assert error["error"].startswith(
        "the gateway service is failed: service failed (exited with code 7)"
    )


async def test_up_gives_up_after_its_timeout(tmp_path: Path, configs: list[Path]) -> None:
    silent = {"command": child("hang"), "health_timeout": 0.2}
    path = write_config(tmp_path, {"gateway": silent})
    configs.append(path)
    up = await run_cli(path, "up", "--timeout", "2")
    assert up.code == 5
    assert up.err.startswith("palyra-tui: the gateway was not healthy within 2 s: service ")


async def test_up_says_why_a_host_cannot_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("not a directory")
    path = write_config(tmp_path)
    up = await run_cli(path, "up")
    assert up.code == 1
    assert "state" in up.err and up.err.count("\n") == 1
