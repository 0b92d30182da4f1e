"""``palyra-tui down`` with a service that ignores SIGTERM, measured as an operator waits.

A real ``palyra-tui host`` runs the reference daemons and ``stubborn``, a service
that ignores SIGTERM with a 0.5 s ``stop_timeout``; a UI-like client follows the
host's view and every service's logs (as the Logs pane does), or nothing is
attached.  The figure is the wall time of ``palyra-tui down`` from exec to exit;
``down`` with no host to stop is measured alongside: the command's own start-up.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

from tests.bench.conftest import median, report
from tests.bench.host_harness import Host, child
from tests.bench.test_bench_ui import _env
from tests.conftest import block_until, pids_alive

pytestmark = pytest.mark.bench

RUNS = 5
STOP_TIMEOUT = 0.5

FOLLOWER = r"""
import asyncio, sys
from pathlib import Path
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime

async def main():
    client = HostClient.for_state_root(Path(sys.argv[1]), client=ClientInfo.current("bench"))
    runtime = SocketRuntime(client)
    await runtime.open()
    logs = runtime.subscribe_logs(backlog=True)

    async def follow_logs():
        async for _ in logs:
            pass

    task = asyncio.create_task(follow_logs())
    print("attached", flush=True)
    async for _ in runtime.subscribe():
        pass
    await task

asyncio.run(main())
"""


@contextmanager
def follower(host: Host) -> Iterator[None]:
    """A client that follows the view and every service's logs until the host goes."""
    process = subprocess.Popen(
        [sys.executable, "-c", FOLLOWER, str(host.state_root)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "attached"
        yield
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def down(config: Path) -> tuple[float, int]:
    """Seconds from exec to exit of ``palyra-tui down``, and its exit code."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "palyra_tui", "down", "--config", str(config)],
        env=_env(),
        capture_output=True,
        timeout=120,
    )
    return time.perf_counter() - started, result.returncode


def service_pids(host: Host) -> list[int]:
    return [process.pid for process in host.ps.children(recursive=True)]


def stubborn_runs(host: Host) -> bool:
    for process in host.ps.children(recursive=True):
        with suppress(psutil.Error):
            if "hang" in process.cmdline() and "--ignore-term" in process.cmdline():
                return True
    return False


def one_down(directory: Path, attached: bool) -> float:
    services: dict[str, dict[str, object]] = {
        "stubborn": {"command": child("hang", "--ignore-term"), "stop_timeout": STOP_TIMEOUT}
    }
    host = Host(directory, services)
    try:
        assert block_until(lambda: stubborn_runs(host))
        time.sleep(1.0)  # let the daemons settle: the figure is the stop, not the start
        pids = service_pids(host)
        if attached:
            with follower(host):
                seconds, code = down(host.config)
        else:
            seconds, code = down(host.config)
        assert code == 0
        assert block_until(lambda: pids_alive([*pids, host.process.pid]) == [])
        return seconds
    finally:
        host.close()


def test_down_with_a_service_that_ignores_sigterm(tmp_path: Path) -> None:
    (tmp_path / "nothing.toml").write_text(f'state_root = "{tmp_path / "empty"}"\n')
    noop = []
    for _ in range(RUNS):
        seconds, code = down(tmp_path / "nothing.toml")
        assert code == 4
        noop.append(seconds)
    figures: dict[str, float | int | str] = {"runs": RUNS, "stop_timeout_s": STOP_TIMEOUT}
    for label, attached in (("detached", False), ("follower", True)):
        runs = [one_down(tmp_path / f"{label}{index}", attached) for index in range(RUNS)]
        figures[f"{label}_down_s_p50"] = round(median(runs), 3)
        figures[f"{label}_down_s_max"] = round(max(runs), 3)
        figures[f"{label}_over_stop_timeout_s_p50"] = round(median(runs) - STOP_TIMEOUT, 3)
    figures["no_host_down_s_p50"] = round(median(noop), 3)
    report("down_with_stubborn_service", **figures)
