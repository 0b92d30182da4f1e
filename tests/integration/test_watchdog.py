"""The watchdog that kills the services if palyra-tui dies: losing it is said, and mended."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import psutil
import pytest

from palyra_tui.supervisor.lineage import Tracked
from palyra_tui.supervisor.reaper import Reaper, WatchdogLoss
from tests.conftest import block_until, child, pids_alive
from tests.integration.test_descendants import daemon_pids
from tests.integration.test_supervise_command import records, start, toml_list, wait_for
from tests.integration.test_supervise_command import write_config as write_command_config


def watchdogs_of(pid: int) -> list[int]:
    """The watchdogs ``pid`` runs: its ``python -I -S`` children in a session of their own."""
    try:
        children = psutil.Process(pid).children()
    except psutil.Error:
        return []
    found = []
    for process in children:
        try:
            if "-S" in process.cmdline()[:3] and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """The daemons a test made; whatever a failed test left running is killed."""
    made: list[int] = []
    yield made
    for pid in pids_alive(made):
        os.kill(pid, signal.SIGKILL)


_RUNNING: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_supervise_left() -> Iterator[None]:
    """A failed test must not leave its ``supervise`` running: it would restart its
    service for ever."""
    yield
    while _RUNNING:
        process = _RUNNING.pop()
        if process.poll() is None:
            process.kill()
            process.wait(30)


def supervise_a_daemon(
    tmp_path: Path, stderr: IO[str] | int, daemons: list[int]
) -> subprocess.Popen[str]:
    """``supervise`` running a service whose daemon left its group (in ``daemons``)."""
    pid_file = tmp_path / "daemons"
    config = write_command_config(
        tmp_path,
        f"[services.spawner]\ncommand = {toml_list(child('daemonize', str(pid_file)))}\n",
    )
    process = start(config, stderr=stderr)
    _RUNNING.append(process)
    assert process.stdout is not None
    wait_for(records(process.stdout), "spawner", "running", [])
    assert block_until(lambda: len(daemon_pids(pid_file)) == 1)
    daemons.extend(daemon_pids(pid_file))
    return process


def said_about_watchdogs(path: Path) -> list[str]:
    """The complete lines of ``path`` that speak of a watchdog."""
    lines = path.read_text().splitlines(keepends=True)
    return [line for line in lines if "watchdog" in line and line.endswith("\n")]


def test_a_killed_watchdog_is_logged_and_replaced_with_the_same_duty(
    tmp_path: Path, daemons: list[int]
) -> None:
    """SIGKILL the watchdog: supervise says so once and starts another, which still kills
    a daemon that left its service's group when supervise itself is SIGKILLed."""
    stderr_file = tmp_path / "stderr"
    with stderr_file.open("w") as stderr:
        process = supervise_a_daemon(tmp_path, stderr, daemons)
    (first,) = watchdogs_of(process.pid)
    os.kill(first, signal.SIGKILL)
    assert block_until(lambda: said_about_watchdogs(stderr_file) != [])
    # The new watchdog may still be between fork and exec (its command line the parent's).
    assert block_until(lambda: len(watchdogs_of(process.pid)) == 1)
    (second,) = watchdogs_of(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert block_until(lambda: pids_alive([*daemons, second]) == []), (
        "the new watchdog did not kill the daemon"
    )
    said = said_about_watchdogs(stderr_file)
    assert len(said) == 1, said
    assert f"(pid {first}) was killed by SIGKILL" in said[0]
    assert f"started a new one (pid {second})" in said[0]


def test_a_new_watchdog_is_armed_the_moment_it_runs(tmp_path: Path, daemons: list[int]) -> None:
    """supervise SIGKILLed as soon as the new watchdog exists, perhaps before it wrote
    anything more to it: the new watchdog still kills the daemon that left its group."""
    process = supervise_a_daemon(tmp_path, subprocess.DEVNULL, daemons)
    (first,) = watchdogs_of(process.pid)
    new: list[int] = []

    def replaced() -> bool:
        new[:] = [pid for pid in watchdogs_of(process.pid) if pid != first]
        return new != []

    os.kill(first, signal.SIGKILL)
    assert block_until(replaced)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert block_until(lambda: pids_alive([*daemons, *new]) == []), (
        "the new watchdog did not kill the daemon"
    )


def test_a_replacement_lost_at_once_is_replaced_after_a_pause() -> None:
    """A watchdog that cannot live is not started twice a second; each one started still
    holds every registration (the last one kills the group when the reaper closes)."""
    reaper = Reaper()
    reaper.start("test")
    group = subprocess.Popen(child("hang"), process_group=0)
    reaper.watch(group.pid)
    losses: list[WatchdogLoss] = []

    def lost(now: float) -> bool:
        loss = reaper.check(now)
        if loss is not None:
            losses.append(loss)
        return loss is not None

    try:
        first = reaper.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert block_until(lambda: lost(100.0))
        second = losses[-1].replaced_by
        assert second is not None and second == reaper.pid and losses[-1].groups == 1
        os.kill(second, signal.SIGKILL)
        assert block_until(lambda: lost(101.0))
        assert losses[-1].replaced_by is None and reaper.pid is None
        assert "no new watchdog runs yet" in losses[-1].sentence()
        assert reaper.check(104.9) is None, "said once, and not replaced before the pause"
        assert lost(105.0) and losses[-1].replaced_by == reaper.pid is not None
        assert group.poll() is None
        reaper.close()
        assert block_until(lambda: group.poll() is not None), "the last watchdog kept the group"
    finally:
        reaper.close()
        if group.poll() is None:
            group.kill()
        group.wait()


def test_a_new_watchdog_gets_more_registrations_than_its_pipe_holds_first() -> None:
    """What does not fit in the new watchdog's pipe before it starts follows in order, and
    so does what is registered later."""
    beyond = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    reaper = Reaper()
    reaper.start("test")
    reaper.watch_processes([Tracked(beyond + n, 1) for n in range(10_000)])
    group = subprocess.Popen(child("hang"), process_group=0)
    try:
        first = reaper.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert block_until(lambda: reaper.check(100.0) is not None)
        reaper.watch(group.pid)
        reaper.close()
        assert block_until(lambda: group.poll() is not None), "the group outlived the reaper"
    finally:
        reaper.close()
        if group.poll() is None:
            group.kill()
        group.wait()
