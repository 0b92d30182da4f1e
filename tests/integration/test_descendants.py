"""Processes that leave their service's process group still end with it.

The fixture's ``daemonize`` act double-forks a daemon that calls ``setsid`` and
ignores SIGTERM, SIGINT and SIGHUP, as Chromium's crashpad handler does: no
``killpg`` reaches it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from palyra_tui.config import Config
from palyra_tui.models import ServiceState
from palyra_tui.supervisor import Supervisor
from tests.conftest import block_until, child, eventually, next_state, pids_alive, wait_for_output
from tests.integration.test_supervise_command import records, start, toml_list, wait_for
from tests.integration.test_supervise_command import write_config as write_command_config

OpenSupervisor = Callable[..., Supervisor]
ConfigFactory = Callable[..., Config]


def daemon_pids(path: Path) -> list[int]:
    """The pids the fixture's daemons wrote so far."""
    if not path.exists():
        return []
    return [int(word) for word in path.read_text().split()]


async def test_stop_kills_a_daemon_that_left_the_group(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    pid_file = tmp_path / "daemons"
    config = config_factory({"spawner": {"command": child("daemonize", str(pid_file))}})
    supervisor = open_supervisor(config)
    await supervisor.start("spawner")
    assert await eventually(lambda: len(daemon_pids(pid_file)) == 1)
    daemon = daemon_pids(pid_file)[0]
    assert os.getpgid(daemon) != supervisor.snapshot().get("spawner").pid  # type: ignore[union-attr]
    await supervisor.stop("spawner")
    assert pids_alive([daemon]) == []
    lines = [line.text for line in supervisor.tail("spawner", 20)]
    assert any("left outside its process group" in text and str(daemon) in text for text in lines)


async def test_restarts_do_not_stack_daemons(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    pid_file = tmp_path / "daemons"
    config = config_factory({"spawner": {"command": child("daemonize", str(pid_file))}})
    supervisor = open_supervisor(config)
    events = supervisor.subscribe_events()
    await supervisor.start("spawner")
    for _ in range(3):
        assert await eventually(lambda: len(pids_alive(daemon_pids(pid_file))) == 1)
        leader = supervisor.snapshot().get("spawner")
        assert leader is not None and leader.pid is not None
        os.kill(leader.pid, signal.SIGKILL)
        await next_state(events, "spawner", ServiceState.BACKOFF)
        assert await eventually(lambda: pids_alive(daemon_pids(pid_file)) == [])
        await supervisor.start("spawner")
    await supervisor.stop("spawner")
    assert pids_alive(daemon_pids(pid_file)) == []


def adopted_zombies() -> list[int]:
    """Dead children of this process outside its process group: orphans it adopted."""
    me, group, found = os.getpid(), os.getpgrp(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] == b"Z" and int(fields[1]) == me and int(fields[2]) != group:
            found.append(int(name))
    return found


async def test_orphans_that_die_unseen_are_reaped(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"spawner": {"command": child("orphans", "30")}})
    supervisor = open_supervisor(config, stats_interval=0.2)
    await supervisor.start("spawner")
    await wait_for_output(supervisor, "spawner", "orphaned")
    assert await eventually(lambda: adopted_zombies() == []), adopted_zombies()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_daemons_end_when_supervise_ends(tmp_path: Path, signum: int) -> None:
    """SIGTERM stops them in order; after SIGKILL the watchdog finds them by pidfd and mark."""
    pid_file = tmp_path / "daemons"
    config = write_command_config(
        tmp_path,
        f"[services.spawner]\ncommand = {toml_list(child('daemonize', str(pid_file)))}\n",
    )
    process = start(config)
    assert process.stdout is not None
    wait_for(records(process.stdout), "spawner", "running", [])
    assert block_until(lambda: len(daemon_pids(pid_file)) == 1)
    process.send_signal(signum)
    process.wait(30)
    assert block_until(lambda: pids_alive(daemon_pids(pid_file)) == []), (
        f"a daemonized grandchild survived palyra-tui's {signal.Signals(signum).name}"
    )


_SPAWN_AND_DIE = textwrap.dedent(
    """
    import asyncio, json, os, sys, time
    from pathlib import Path
    from palyra_tui.supervisor.process import spawn

    READ = {"x86_64": "0", "aarch64": "63"}[os.uname().machine]

    def waiting_on_a_pipe(pid):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            call = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            return False
        return state == "S" and call[:1] == [READ]

    async def main():
        loop = asyncio.get_running_loop()
        ran = Path(sys.argv[1])
        program = [sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", str(ran)]
        child = spawn(loop, program, dict(os.environ), None, lambda i, d: None, lambda s: None)
        print(json.dumps(child.pid), flush=True)
        while not (ran.exists() or waiting_on_a_pipe(child.pid)):
            time.sleep(0.005)
        os._exit(0)

    asyncio.run(main())
    """
)


def test_a_start_the_supervisor_never_confirmed_never_runs(tmp_path: Path) -> None:
    """The supervisor dies after the fork but before registering the group.

    It waits until the new process either ran its program or waits for the
    go-ahead, then dies: a program must never run unregistered.
    """
    ran = tmp_path / "ran"
    result = subprocess.run(
        [sys.executable, "-c", _SPAWN_AND_DIE, str(ran)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shim = json.loads(result.stdout)
    assert block_until(lambda: pids_alive([shim]) == [])
    assert not ran.exists()
