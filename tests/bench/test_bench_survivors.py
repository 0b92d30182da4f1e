"""Torture figures: processes that outlive their supervisor or service (target 0 each).

* survivors: a service whose grandchild double-forks a ``setsid`` daemon that
  ignores SIGTERM, SIGINT and SIGHUP; ``palyra-tui supervise`` is SIGKILLed or
  SIGTERMed 20 times each, and one service is stopped 10 times;
* orphans: ``palyra-tui supervise`` starting 200 services is SIGKILLed at a
  random point of the start, 60 times.

A process counts as surviving when it is still alive once the watchdog has
finished (the watchdog's own exit is the condition waited for).
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from palyra_tui.config import Config
from palyra_tui.supervisor import Supervisor
from tests.bench.conftest import report
from tests.conftest import block_until, child, eventually, pids_alive
from tests.integration.test_descendants import daemon_pids
from tests.integration.test_supervise_command import toml_list, write_config

pytestmark = pytest.mark.bench


def watchdogs_of(pid: int) -> list[psutil.Process]:
    """The watchdog processes a supervise process started (its children in their own session)."""
    try:
        return [p for p in psutil.Process(pid).children() if "-S" in p.cmdline()[:3]]
    except psutil.Error:
        return []


def has_daemon(pid_file: Path) -> bool:
    return len(daemon_pids(pid_file)) == 1


def supervise(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", "supervise"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PALYRA_TUI_CONFIG": str(config)},
    )


def wait_state(process: subprocess.Popen[str], service: str, state: str, count: int = 1) -> None:
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        record = json.loads(line)
        if record.get("service", "").startswith(service) and record.get("state") == state:
            seen += 1
            if seen == count:
                return
    raise AssertionError(f"{service} never became {state}")


def end_and_count(process: subprocess.Popen[str], signum: int, pid_file: Path) -> int:
    watchdogs = watchdogs_of(process.pid)
    process.send_signal(signum)
    process.wait(60)
    assert process.stdout is not None
    process.stdout.close()
    psutil.wait_procs(watchdogs, timeout=30)
    return len(pids_alive(daemon_pids(pid_file)))


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_daemon_survivors_when_supervise_ends(tmp_path: Path, signum: int) -> None:
    trials, survivors = 20, 0
    for trial in range(trials):
        root = tmp_path / str(trial)
        root.mkdir()
        pid_file = root / "daemons"
        command = toml_list(child("daemonize", str(pid_file)))
        config = write_config(root, f"[services.spawner]\ncommand = {command}\n")
        process = supervise(config)
        wait_state(process, "spawner", "running")
        assert block_until(functools.partial(has_daemon, pid_file))
        survivors += end_and_count(process, signum, pid_file)
        for pid in pids_alive(daemon_pids(pid_file)):
            os.kill(pid, signal.SIGKILL)
    name = signal.Signals(signum).name
    report("daemon_survivors", signal=name, trials=trials, survivors=survivors)


async def test_daemon_survivors_over_stops(
    config_factory: Callable[..., Config],
    open_supervisor: Callable[..., Supervisor],
    tmp_path: Path,
) -> None:
    trials, pid_file = 10, tmp_path / "daemons"
    config = config_factory({"spawner": {"command": child("daemonize", str(pid_file))}})
    supervisor = open_supervisor(config)
    for _ in range(trials):
        await supervisor.start("spawner")
        assert await eventually(lambda: len(pids_alive(daemon_pids(pid_file))) == 1)
        await supervisor.stop("spawner")
    survivors = pids_alive(daemon_pids(pid_file))
    report("daemon_survivors", action="stop", trials=trials, survivors=len(survivors))
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)


def test_orphans_when_killed_during_a_200_service_start(tmp_path: Path) -> None:
    trials, services, orphans = 60, 200, 0
    rng = random.Random(7)
    started = time.monotonic()
    for trial in range(trials):
        root = tmp_path / str(trial)
        root.mkdir()
        tag = f"{1_000_000 + trial}"
        sections = "".join(
            f"[services.s{i:03}]\ncommand = {toml_list(['/bin/sleep', tag])}\n"
            for i in range(services)
        )
        process = supervise(write_config(root, sections))
        wait_state(process, "s", "starting", rng.randint(1, services))
        watchdogs = watchdogs_of(process.pid)
        process.kill()
        process.wait(60)
        assert process.stdout is not None
        process.stdout.close()
        psutil.wait_procs(watchdogs, timeout=30)
        processes = psutil.process_iter(["cmdline"])
        left = [p for p in processes if (p.info["cmdline"] or [])[-1:] == [tag]]
        orphans += len(left)
        for leftover in left:
            leftover.kill()
    report(
        "spawn_orphans",
        trials=trials,
        services=services,
        orphans=orphans,
        seconds=round(time.monotonic() - started, 1),
    )
