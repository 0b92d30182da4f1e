"""What the runtime host benchmarks drive: a host process, the UI attached to it on a
pseudo-terminal, and clients of the host's socket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psutil
import tomli_w

from palyra_tui.cli.demo import demo_document
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from tests.bench.test_bench_ui import Pty, _env

CHILD = Path(__file__).resolve().parents[1] / "fixtures" / "child.py"

SGR_OR_TEXT = rb"(?:[^\x1b\r\n]|\x1b\[[0-9;]*m)*?"
"""Between two words of one table row: text and colours, no cursor movement."""


def row_shows(service: str, *states: str) -> re.Pattern[bytes]:
    """A repaint of ``service``'s row in the process table showing one of ``states``."""
    words = b"|".join(state.encode() for state in states)
    return re.compile(service.encode() + SGR_OR_TEXT + rb" ?(?:" + words + rb")\b")


class Screen(Pty):
    """The attached control center on a pseudo-terminal."""

    def first_match(self, pattern: re.Pattern[bytes], after: float, timeout: float = 15.0) -> float:
        """When bytes written at or after ``after`` first matched ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                chunks = [(at, data) for at, data in self.chunks if at >= after]
            written = b""
            ends: list[tuple[int, float]] = []
            for at, data in chunks:
                written += data
                ends.append((len(written), at))
            found = pattern.search(written)
            if found is not None:
                return next(at for end, at in ends if end >= found.end())
            time.sleep(0.002)
        raise AssertionError(f"{pattern.pattern!r} never appeared")

    def output_between(self, start: float, end: float) -> bytes:
        with self._lock:
            return b"".join(data for at, data in self.chunks if start <= at < end)

    def detach(self) -> None:
        """Ctrl+Q: an attached UI leaves at once and the host goes on."""
        if self.process.poll() is None:
            self.send(b"\x11")
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.master)


class Host:
    """``palyra-tui host`` over the demo's daemons plus ``services``, in its own session."""

    def __init__(
        self, directory: Path, services: dict[str, dict[str, object]], **settings: object
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.state_root = directory / "state"
        document = demo_document(self.state_root)
        builtin = document["services"]
        assert isinstance(builtin, dict)
        document["services"] = {**builtin, **services}
        document.update(settings)
        self.config = directory / "tui.toml"
        self.config.write_text(tomli_w.dumps(document))
        self.log = directory / "host.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "palyra_tui", "host", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=_env(),
                start_new_session=True,
            )
        self.started = time.monotonic()
        deadline = self.started + 60
        while b"runtime host ready" not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"the host did not start: {self.log.read_text()}")
            time.sleep(0.01)
        self.ps = psutil.Process(self.process.pid)

    def runtime(self) -> SocketRuntime:
        """A client of the host, as a second UI or a script attaches."""
        client = HostClient.for_state_root(self.state_root, client=ClientInfo.current("bench"))
        return SocketRuntime(client)

    def attach(self) -> Screen:
        """``palyra-tui`` with this host's config: it attaches to the running host."""
        return Screen([sys.executable, "-m", "palyra_tui", "--config", str(self.config)], _env())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_host(
    directory: Path, services: dict[str, dict[str, object]], **settings: object
) -> Iterator[Host]:
    host = Host(directory, services, **settings)
    try:
        yield host
    finally:
        host.close()


@contextlib.contextmanager
def attached(host: Host) -> Iterator[Screen]:
    screen = host.attach()
    try:
        yield screen
    finally:
        screen.detach()


@contextlib.asynccontextmanager
async def client_of(host: Host) -> AsyncIterator[SocketRuntime]:
    runtime = host.runtime()
    await runtime.open()
    try:
        yield runtime
    finally:
        await runtime.close()


def child(*args: str) -> list[str]:
    return [sys.executable, str(CHILD), *args]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` on the loop until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


BARE_CLIENT = r"""
import asyncio, sys
from pathlib import Path
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime

async def main():
    client = HostClient.for_state_root(Path(sys.argv[1]), client=ClientInfo.current("bench"))
    runtime = SocketRuntime(client)
    await runtime.open()
    print("attached", flush=True)
    async for _ in runtime.subscribe():
        pass

asyncio.run(main())
"""


@contextlib.contextmanager
def bare_client(host: Host) -> Iterator[psutil.Process]:
    """A process that follows the host's view as the UI does, without Textual."""
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_CLIENT, str(host.state_root)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "attached"
        yield psutil.Process(process.pid)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


FLOOD_LINES = 200_000
FLOOD_RUNS = 3
FLOOD_BUDGETS: dict[str, dict[str, object]] = {
    "whole": {"log_lines": 1_000_000, "log_mib": 4096, "log_total_mib": 8192},
    "default": {},
}
"""A ring that holds every flood line (no gap may appear), and the default budgets
(10,000 lines a service), where what a reader could not take in time becomes gaps."""


def flood_services() -> dict[str, dict[str, object]]:
    """``FLOOD_RUNS`` stopped services that each write ``FLOOD_LINES`` lines once started."""
    return {
        f"flood{index}": {
            "command": child("flood", str(FLOOD_LINES)),
            "enabled": False,
            "restart": "never",
        }
        for index in range(FLOOD_RUNS)
    }
