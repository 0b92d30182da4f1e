"""The runtime host under a service manager: the sd_notify protocol and the unit file."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from palyra_tui.config import load_config
from tests.conftest import child, pids_alive
from tests.integration.cli_support import cli_env, run_cli, write_config

SLOW = {"command": child("hang"), "start_grace": 2.0}


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket standing in for systemd's ``$NOTIFY_SOCKET``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.setblocking(False)
    try:
        yield sock, str(path)
    finally:
        sock.close()


async def receive(sock: socket.socket, timeout: float = 60.0) -> str:
    async with asyncio.timeout(timeout):
        data = await asyncio.get_running_loop().sock_recv(sock, 4096)
    return data.decode()


async def started(command: str, path: Path, notify: str) -> asyncio.subprocess.Process:
    args = ["host", "--foreground"] if command == "host" else ["supervise"]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        *args,
        "--config",
        str(path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**cli_env(path), "NOTIFY_SOCKET": notify},
    )


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.parametrize("command", ["host", "supervise"])
async def test_ready_once_the_services_started_and_stopping_on_sigterm(
    tmp_path: Path, notify_socket: tuple[socket.socket, str], command: str
) -> None:
    sock, address = notify_socket
    path = write_config(tmp_path, {"slow": SLOW})
    process = await started(command, path, address)
    try:
        ready = await receive(sock)
        assert ready.splitlines()[0] == "READY=1"
        status = await run_cli(path, "status", "--json")
        services: dict[str, Any] = {s["name"]: s for s in status.json()["services"]}
        assert services["slow"]["state"] == "running"
        assert all(s["state"] != "starting" for s in services.values())
        pids = [s["pid"] for s in services.values() if s["pid"] is not None]
        assert "NOTIFY_SOCKET" not in environment_of(services["gateway"]["pid"])
        process.send_signal(signal.SIGTERM)
        stopping = await receive(sock)
        assert stopping.splitlines()[0] == "STOPPING=1"
        async with asyncio.timeout(60):
            assert await process.wait() == 0
        assert pids_alive(pids) == []
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_an_abstract_notify_socket(tmp_path: Path) -> None:
    name = f"palyra-tui-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.setblocking(False)
    path = write_config(tmp_path)
    process = await started("host", path, "@" + name)
    try:
        assert (await receive(sock)).startswith("READY=1")
        process.send_signal(signal.SIGTERM)
        assert (await receive(sock)).startswith("STOPPING=1")
        async with asyncio.timeout(60):
            assert await process.wait() == 0
    finally:
        sock.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_service_install_writes_a_user_unit_and_says_what_to_run(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"slow": {**SLOW, "stop_timeout": 12.5}})
    ran = await run_cli(path, "service", "install", "--user")
    assert ran.code == 0, ran.err
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / "palyra-tui.service"
    text = unit.read_text()
    assert ran.out.startswith(f"wrote {unit}:\n")
    assert "  systemctl --user daemon-reload\n" in ran.out
    assert "  systemctl --user enable --now palyra-tui.service\n" in ran.out
    assert f"  loginctl enable-linger {getpass.getuser()}\n" in ran.out
    lines = text.splitlines()
    assert "Type=notify" in lines and "KillMode=mixed" in lines
    assert "WantedBy=default.target" in lines
    config = load_config(path)
    stops = sum(service.stop_timeout for service in config.services)
    assert f"TimeoutStopSec={30 + int(stops + 0.999)}" in lines
    assert (
        f'ExecStart="{sys.executable}" "-m" "palyra_tui" "host" "--foreground" "--config" '
        f'"{path}"' in lines
    )
    assert f'Environment="PALYRA_STATE_ROOT={config.state_root}"' in lines
    printed = await run_cli(path, "service", "install", "--user", "--print")
    assert printed.out == text


async def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "systemd-analyze is not installed (Debian package systemd); the unit's text is "
            "checked by test_service_install_writes_a_user_unit_and_says_what_to_run"
        )
    odd = tmp_path / 'a dir with 100%z $odd "chars"'
    odd.mkdir()
    path = write_config(odd)
    ran = await run_cli(path, "service", "install", "--user", "--print")
    unit = tmp_path / "palyra-tui.service"
    unit.write_text(ran.out)
    checked = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", checked.stderr
    broken = tmp_path / "broken.service"
    broken.write_text(ran.out.replace(sys.executable, "/nonexistent/python"))
    failed = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True)
    assert failed.returncode != 0 and "/nonexistent/python" in failed.stderr
