"""What a person sees: ``palyra-tui demo`` in a real terminal (tmux), driven by keys.

Start the demo, send a chat message that asks for a tool call, approve it on
the Approvals screen by keyboard, and find the result in the transcript.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
DEADLINE = 60.0
"""How long to wait for a screen; generous, so a cold start on a busy machine passes."""
START_DEADLINE = 180.0
"""The first screen waits for a cold interpreter and three daemons to start."""
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """A tmux session running one command."""

    def __init__(self, command: str, width: int = 100, height: int = 30) -> None:
        assert TMUX is not None
        self.name = f"palyra-{uuid.uuid4().hex[:8]}"
        argv = [TMUX, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height)]
        # A server whose last session just closed is still exiting and refuses new ones
        # ("server exited unexpectedly"): ask again until one takes the session.
        deadline = time.monotonic() + DEADLINE
        while True:
            started = subprocess.run([*argv, command], capture_output=True, text=True)
            if started.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"tmux started no session: {started.stderr.strip()}")
            time.sleep(0.05)

    def screen(self) -> str:
        assert TMUX is not None
        result = subprocess.run(
            [TMUX, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return result.stdout

    def keys(self, *keys: str) -> None:
        assert TMUX is not None
        subprocess.run([TMUX, "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        assert TMUX is not None
        subprocess.run([TMUX, "send-keys", "-t", self.name, "-l", text], check=True)

    def wait_for(self, *needles: str, timeout: float = DEADLINE) -> str:
        """Wait until every needle is on screen."""
        return self.wait_until(
            lambda screen: all(needle in screen for needle in needles), needles, timeout
        )

    def wait_until(
        self, condition: Callable[[str], bool], what: object, timeout: float = DEADLINE
    ) -> str:
        """Wait until ``condition(screen)`` holds; the deadline only bounds a broken run."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what!r}; the screen showed:\n{screen}")

    def press_until(
        self, key: str, condition: Callable[[str], bool], what: object, timeout: float = DEADLINE
    ) -> str:
        """Press ``key`` until ``condition(screen)`` holds (a dialog ignores keys until armed)."""
        deadline = time.monotonic() + timeout
        while True:
            self.keys(key)
            try:
                return self.wait_until(condition, what, timeout=2.0)
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise

    def alive(self) -> bool:
        assert TMUX is not None
        return subprocess.run([TMUX, "has-session", "-t", self.name]).returncode == 0

    def close(self) -> None:
        assert TMUX is not None
        subprocess.run([TMUX, "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def demo_tmp(tmp_path: Path) -> Path:
    """Where the demo makes its throw-away state root (its TMPDIR)."""
    return tmp_path


@pytest.fixture
def terminal(demo_tmp: Path) -> Iterator[Terminal]:
    term = Terminal(
        f"TMPDIR={shlex.quote(str(demo_tmp))} {sys.executable} -m palyra_tui demo; "
        "echo PALYRA-EXITED=$?; sleep 30"
    )
    try:
        yield term
    finally:
        term.close()


def test_chat_approve_by_keyboard_and_see_the_result(terminal: Terminal, demo_tmp: Path) -> None:
    terminal.wait_for("HEALTHY", "connected", "gateway", "running", timeout=START_DEADLINE)
    terminal.keys("3")
    terminal.wait_for("no session")
    terminal.keys("C-n")
    # The session exists once the title names it (the footer always says "New session").
    terminal.wait_until(lambda screen: "no session" not in screen, "the new session's title")
    terminal.wait_for("chat ")
    terminal.type("please run echo hello")
    terminal.wait_for("please run echo hello")
    terminal.keys("Enter")
    terminal.wait_for("you ›")
    terminal.wait_for("approval needed", "palyra.process.run")
    terminal.keys("F4")
    screen = terminal.wait_for("input (complete)", '"command": "echo hello"')
    assert "HIGH" in screen
    terminal.wait_for("y allow once")
    terminal.keys("y")
    terminal.wait_for("approvals 0")
    terminal.keys("3")
    screen = terminal.wait_for("result:", "(simulated) ran: echo hello", "run completed")
    assert "allowed" in screen
    terminal.keys("C-q")
    terminal.wait_for("and quit?")
    terminal.press_until("y", lambda screen: "and quit?" not in screen, "the quit dialog closing")
    terminal.wait_for("PALYRA-EXITED=0")
    assert list(demo_tmp.glob("palyra-demo-*")) == [], "the demo removes its state root"
