"""Starting the runtime host: two UIs at once on a state root with no host share one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psutil

from palyra_tui.config import load_config
from palyra_tui.host.launcher import host_log, stop_host
from palyra_tui.host.main import RuntimeHost
from palyra_tui.supervisor import Supervisor
from tests.conftest import eventually, pids_alive
from tests.integration.test_supervise_command import write_config

ROOT = Path(__file__).resolve().parents[2]

ENSURE = r"""
import asyncio, sys, time
from pathlib import Path
from palyra_tui.config import load_config
from palyra_tui.errors import PalyraError
from palyra_tui.host.launcher import ensure_host

path, go = Path(sys.argv[1]), Path(sys.argv[2])
config = load_config(path)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
try:
    info = asyncio.run(ensure_host(config, path))
except PalyraError as error:
    print(f"error {error}", flush=True)
else:
    print(f"host {info.host_pid}", flush=True)
"""


async def test_two_uis_starting_at_once_attach_to_one_host(tmp_path: Path) -> None:
    """Both call ensure_host on a fresh state root at the same moment, in two processes."""
    path = write_config(tmp_path, "")
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURE, str(path), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
        go.touch()
        said = [await asyncio.to_thread(racer.communicate, None, 90) for racer in racers]
        answers = [out.strip() for out, _ in said]
        assert [racer.returncode for racer in racers] == [0, 0]
        assert all(answer.startswith("host ") for answer in answers), answers
        assert answers[0] == answers[1], answers
        log = host_log(load_config(path)).read_text()
        assert log.count("runtime host ready") == 1, log
        assert "already" not in log, "only one host was started"
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()
        stopped = await stop_host(load_config(path), 60)
    assert stopped is not None
    assert pids_alive([stopped.host_pid]) == []
    assert await stop_host(load_config(path), 5) is None


async def test_a_host_started_while_another_takes_the_state_root_waits_for_that_one(
    tmp_path: Path,
) -> None:
    """Something else (``supervise``, a service manager's host) holds the state root and
    serves its socket a moment later: ``ensure_host`` attaches to it instead of failing."""
    path = write_config(tmp_path, "")
    config = load_config(path)
    go = tmp_path / "go"
    go.touch()
    supervisor = Supervisor(config)
    await asyncio.to_thread(supervisor.open)
    host = RuntimeHost(config)
    racer = subprocess.Popen(
        [sys.executable, "-c", ENSURE, str(path), str(go)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started: list[int] = []

        def spawned() -> bool:
            with contextlib.suppress(psutil.Error):
                started.extend(child.pid for child in psutil.Process(racer.pid).children())
            return bool(started)

        assert await eventually(spawned)
        assert await eventually(lambda: not psutil.pid_exists(started[0])), "reaped by its starter"
        assert "already supervising" in host_log(config).read_text()
        await host.serve(supervisor, lambda: None)
        out, _ = await asyncio.to_thread(racer.communicate, None, 90)
        assert out.splitlines()[-1] == f"host {os.getpid()}", out
        assert racer.returncode == 0
    finally:
        if racer.poll() is None:
            racer.kill()
            racer.wait()
        await host.stop_serving()
        await supervisor.aclose()
