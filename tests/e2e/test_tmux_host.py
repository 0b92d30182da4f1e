"""The runtime host in a real terminal: a dropped session, detaching, a killed host, ``down``.

Each test drives ``palyra-tui`` in tmux over its own state root.  Every process a
test causes (the UI, the host it starts, the host's watchdog, the services)
carries a mark in its environment, so the test finds them all, whoever their
parent is now, and proves that none survives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psutil
import pytest
import tomli_w

from palyra_tui.cli.demo import demo_document
from palyra_tui.host import wire
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo, HostInfo
from palyra_tui.state.runtime_api import RuntimeView
from tests.conftest import child, pids_alive
from tests.e2e.test_tmux_demo import DEADLINE, START_DEADLINE, TMUX, Terminal
from tests.onboarded import mark_onboarded

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

MARK_VAR = "PALYRA_E2E_MARK"
DEMO_SERVICES = ("gateway", "browserd")
"""The demo's daemons that run from the start (the node host waits to be enrolled)."""
KEPT_OUT = (
    "PALYRA_STATE_ROOT",
    "PALYRA_DESKTOP_PALYRAD_BIN",
    "PALYRA_DESKTOP_BROWSERD_BIN",
    "PALYRA_DESKTOP_PALYRA_BIN",
)
"""The developer's settings that must not reach the tmux pane (tmux keeps its own environment)."""
LONG_COMMAND = (
    "ls -la " + " ".join(f"/srv/volume-{n:02d}" for n in range(16)) + "; echo the-end-of-the-input"
)
"""Longer than the approval's detail at 80×24: allowing it needs reading to the end."""
RUNNING_ROW = re.compile(r"^\s*(\w+)\s+running\s+(\d+)\s", re.MULTILINE)
"""A row of the Health table: service, state, pid."""


def pane_pids(screen: str) -> dict[str, int]:
    """The pid of every running service in the Health table on screen."""
    return {name: int(pid) for name, pid in RUNNING_ROW.findall(screen)}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll ``condition``; the deadline only bounds a broken run."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.05)


class Rig:
    """One state root, the UIs attached to it in tmux, and every process they cause."""

    def __init__(self, root: Path, document: Mapping[str, Any], *, onboarded: bool = True) -> None:
        """``onboarded``: the operator completed onboarding, so the UI opens on Health."""
        self.root = root
        self.state_root = Path(str(document["state_root"]))
        if onboarded:
            mark_onboarded(self.state_root)
        self.config = root / "tui.toml"
        self.config.write_text(tomli_w.dumps(dict(document)))
        self.mark = uuid.uuid4().hex
        self.env = {
            "PALYRA_TUI_CONFIG": str(self.config),
            "XDG_CONFIG_HOME": str(root / "xdg-config"),
            "XDG_STATE_HOME": str(root / "xdg-state"),
            "TMPDIR": str(root),
            MARK_VAR: self.mark,
        }
        self.terminals: list[Terminal] = []

    # Driving ---------------------------------------------------------------------

    def attach(self, *, stderr: Path | None = None, width: int = 100, height: int = 30) -> Terminal:
        """``palyra-tui`` in a new tmux session; ``stderr`` also gets a copy of its stderr."""
        command = ["env", *(f"-u{name}" for name in KEPT_OUT)]
        command += [f"{key}={value}" for key, value in self.env.items()]
        command += [sys.executable, "-m", "palyra_tui"]
        line = shlex.join(command)
        if stderr is not None:
            # Textual draws on stderr, so the copy goes through tee and the pane still shows it.
            line += f" 2> >(tee {shlex.quote(str(stderr))})"
        line += "; echo PALYRA-EXITED=$?; sleep 60"
        terminal = Terminal(f"bash -c {shlex.quote(line)}", width=width, height=height)
        self.terminals.append(terminal)
        return terminal

    def wait_for_health(
        self, terminal: Terminal, services: tuple[str, ...], *also: str
    ) -> dict[str, int]:
        """Wait until the Health screen shows every service running, and ``also``; returns
        the pids on screen."""
        screen = terminal.wait_until(
            lambda screen: (
                set(services) <= set(pane_pids(screen)) and all(text in screen for text in also)
            ),
            f"{services} running and {also}",
            timeout=START_DEADLINE,
        )
        return {name: pid for name, pid in pane_pids(screen).items() if name in services}

    def drop(self, terminal: Terminal) -> None:
        """Close the terminal as a dropped SSH session does (tmux sends SIGHUP), and wait
        until the UI that ran in it is gone."""
        uis = [process.pid for process in self.uis()]
        assert uis, "no UI process was found before the terminal was dropped"
        terminal.close()
        wait_for(lambda: not pids_alive(uis), "the UI ending with its terminal")

    # Looking -----------------------------------------------------------------------

    def view(self) -> tuple[HostInfo, RuntimeView]:
        """Who the host is and what it shows, asked over its socket."""

        async def ask() -> tuple[HostInfo, RuntimeView]:
            client = HostClient.for_state_root(self.state_root, client=ClientInfo.current("e2e"))
            try:
                host = await client.connect()
                return host, await client.call(wire.VIEW, wire.Empty(), RuntimeView)
            finally:
                await client.close()

        return asyncio.run(ask())

    def host_pids(self) -> tuple[int, dict[str, int]]:
        """The host's pid, and the pid of each of its running services."""
        host, view = self.view()
        services = {
            service.name: service.pid
            for service in view.snapshot.supervisor.services
            if service.pid is not None
        }
        return host.host_pid, services

    def processes(self) -> list[psutil.Process]:
        """Every live process of this rig: marked in its environment, or working inside
        the test's directory (where the state root is)."""
        found = []
        for process in psutil.process_iter():
            if process.pid == os.getpid():
                continue
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                marked = process.environ().get(MARK_VAR) == self.mark
                if marked or Path(process.cwd()).is_relative_to(self.root):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def uis(self) -> list[psutil.Process]:
        """The attached ``palyra-tui`` processes (no command: the UI)."""
        found = []
        for process in self.processes():
            try:
                if process.cmdline()[-2:] == ["-m", "palyra_tui"]:
                    found.append(process)
            except psutil.NoSuchProcess:
                continue
        return found

    # Ending ------------------------------------------------------------------------

    def down(self) -> subprocess.CompletedProcess[str]:
        """``palyra-tui down`` for this state root."""
        env = {key: value for key, value in os.environ.items() if key not in KEPT_OUT}
        env.update(self.env)
        return subprocess.run(
            [sys.executable, "-m", "palyra_tui", "down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def clean_up(self) -> None:
        """Close every terminal, stop the host, and fail if anything of the rig survives
        (after killing it: the next test starts clean)."""
        for terminal in self.terminals:
            terminal.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.down()
        try:
            wait_for(lambda: not self.processes(), "every process of the test ending", 30.0)
        except AssertionError:
            left = self.processes()
            names = [(process.pid, " ".join(process.cmdline())[:120]) for process in left]
            for process in left:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
            raise AssertionError(f"processes survived the test: {names}") from None


def demo_ready(rig: Rig, terminal: Terminal) -> dict[str, int]:
    """Wait until the demo's daemons run and the gateway is connected (chat works from
    then on); their pids on screen."""
    return rig.wait_for_health(terminal, DEMO_SERVICES, "HEALTHY", "connected")


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[[Mapping[str, Any]], Rig]]:
    rigs: list[Rig] = []

    def make(document: Mapping[str, Any]) -> Rig:
        rig = Rig(tmp_path, document)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.clean_up()


@pytest.fixture
def demo(make_rig: Callable[[Mapping[str, Any]], Rig], tmp_path: Path) -> Rig:
    """The reference daemons in a state root of the test's own.  An approval waits ten
    minutes instead of one, so a slow machine cannot time it out between two attaches."""
    document: dict[str, Any] = demo_document(tmp_path / "state")
    document["services"]["gateway"]["command"] += ["--approval-timeout-ms", "600000"]
    return make_rig(document)


def test_a_dropped_session_leaves_every_service_running(demo: Rig) -> None:
    """The terminal goes away with SIGHUP; the host, its services and their pids stay."""
    first = demo.attach()
    shown = demo_ready(demo, first)
    host_pid, services = demo.host_pids()
    assert services == shown

    demo.drop(first)

    wait_for(lambda: demo.view()[1].clients == 0, "the host noticing the UI has gone")
    assert demo.host_pids() == (host_pid, services)
    assert pids_alive([host_pid, *services.values()]) == [host_pid, *services.values()]

    second = demo.attach()
    assert demo_ready(demo, second) == services
    second.wait_for("host · 1 client")


def test_an_approval_survives_the_dropped_session_and_is_answered_later(demo: Rig) -> None:
    """A run waiting for an approval belongs to the host, not to the UI that started it."""
    first = demo.attach(width=80, height=24)
    demo_ready(demo, first)
    first.keys("F3")
    first.wait_for("no session")
    first.keys("C-n")
    first.wait_until(lambda screen: "no session" not in screen, "the new session's title")
    first.type(f"please run {LONG_COMMAND}")
    first.wait_for("echo the-end-of-the-input")
    first.keys("Enter")
    first.wait_for("approval needed", "palyra.process.run")

    demo.drop(first)

    # The next view opens where the last one was: on that chat, its run waiting.
    second = demo.attach(width=80, height=24)
    second.wait_for("approval needed", "palyra.process.run", "alt+3 Chat")
    second.keys("F4")
    second.wait_for("input (complete)", '"command": "ls -la', "more below")
    # Allowing counts once the whole input has been on screen and the prompt is armed;
    # both show at the end of the detail, so read to the end until the armed keys are there.
    second.press_until(
        "End",
        lambda screen: (
            "the-end-of-the-input" in screen
            and "y allow once" in screen
            and "more below" not in screen
        ),
        "the approval read to its end and armed",
    )
    second.keys("y")
    second.wait_for("approvals 0")
    second.keys("F3")
    second.wait_for("agent › Done: run a shell command: ls -la", "run completed")


def test_a_killed_host_takes_its_services_along_and_the_ui_says_so(demo: Rig) -> None:
    """SIGKILL leaves the host no time to stop anything: the watchdog and the parent-death
    signal must, and the UI must say what happened instead of crashing."""
    terminal = demo.attach()
    demo_ready(demo, terminal)
    host_pid, _ = demo.host_pids()
    descendants = [process.pid for process in psutil.Process(host_pid).children(recursive=True)]
    assert len(descendants) > len(DEMO_SERVICES), "the services and the watchdog"
    ui = [process.pid for process in demo.uis()]

    os.kill(host_pid, signal.SIGKILL)

    wait_for(lambda: not pids_alive(descendants), "every descendant of the host ending")
    wait_for(
        lambda: [process.pid for process in demo.processes()] == ui,
        "nothing but the UI left of the rig",
    )
    screen = terminal.wait_for("runtime host lost")
    assert "Traceback" not in screen
    assert pids_alive(ui) == ui, "the UI outlives its host"


def test_q_detaches_and_says_how_to_stop_the_services(demo: Rig, tmp_path: Path) -> None:
    """Quitting leaves the services running, so the exit message says how to stop them."""
    stderr = tmp_path / "stderr.txt"
    terminal = demo.attach(stderr=stderr)
    demo_ready(demo, terminal)
    host_pid, services = demo.host_pids()

    terminal.keys("q")

    terminal.wait_for("PALYRA-EXITED=0")
    assert demo.uis() == []
    assert demo.host_pids() == (host_pid, services)
    assert pids_alive([host_pid, *services.values()]) == [host_pid, *services.values()]
    # tee may write the last line a moment after the UI has exited.
    wait_for(lambda: "palyra-tui down" in stderr.read_text(errors="replace"), "the message")
    assert "detached" in stderr.read_text(errors="replace")


def test_down_stops_a_service_that_ignores_sigterm(
    make_rig: Callable[[Mapping[str, Any]], Rig], tmp_path: Path
) -> None:
    """``down`` waits for SIGKILL after ``stop_timeout`` and exits 0 only once all is gone."""
    rig = make_rig(
        {
            "state_root": str(tmp_path / "state"),
            "services": {
                "gateway": {"enabled": False},
                "browserd": {"enabled": False},
                "node_host": {"enabled": False},
                "stubborn": {"command": child("hang", "--ignore-term"), "stop_timeout": 0.5},
            },
        }
    )
    terminal = rig.attach()
    shown = rig.wait_for_health(terminal, ("stubborn",))
    host_pid, services = rig.host_pids()
    assert services == shown
    terminal.keys("q")
    terminal.wait_for("PALYRA-EXITED=0")

    done = rig.down()

    assert done.returncode == 0, done.stderr
    assert f"stopped the runtime host (pid {host_pid})" in done.stdout
    assert pids_alive([host_pid, services["stubborn"]]) == []
    wait_for(lambda: not rig.processes(), "the host's watchdog ending")
