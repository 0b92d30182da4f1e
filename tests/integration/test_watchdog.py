"""The watchdog that kills the services if palyra-tui dies: losing it is said, and mended."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil

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


def test_a_killed_watchdog_is_logged_and_replaced_with_the_same_duty(tmp_path: Path) -> None:
    """SIGKILL the watchdog: supervise says so once and starts another, which still kills
    a daemon that left its service's group when supervise itself is SIGKILLed."""
    pid_file = tmp_path / "daemons"
    config = write_command_config(
        tmp_path,
        f"[services.spawner]\ncommand = {toml_list(child('daemonize', str(pid_file)))}\n",
    )
    process = start(config)
    assert process.stdout is not None and process.stderr is not None
    wait_for(records(process.stdout), "spawner", "running", [])
    assert block_until(lambda: len(daemon_pids(pid_file)) == 1)
    daemon = daemon_pids(pid_file)[0]
    (first,) = watchdogs_of(process.pid)
    os.kill(first, signal.SIGKILL)
    assert block_until(lambda: [pid for pid in watchdogs_of(process.pid) if pid != first] != [])
    (second,) = watchdogs_of(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert block_until(lambda: pids_alive([daemon, second]) == []), (
        "the new watchdog did not kill the daemon"
    )
    said = [line for line in process.stderr.read().splitlines() if "watchdog" in line]
    assert len(said) == 1, said
    assert f"(pid {first}) was killed by SIGKILL" in said[0]
    assert f"started a new one (pid {second})" in said[0]


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
