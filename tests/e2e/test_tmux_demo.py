"""What a person sees: ``palyra-tui demo`` in a real terminal (tmux), driven by keys.

Start the demo, send a chat message that asks for a tool call, approve it on
the Approvals screen by keyboard, and find the result in the transcript.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """A tmux session running one command."""

    def __init__(self, command: str, width: int = 100, height: int = 30) -> None:
        assert TMUX is not None
        self.name = f"palyra-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [
                TMUX,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                command,
            ],
            check=True,
        )

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

    def wait_for(self, *needles: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(needle in screen for needle in needles):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {needles!r}; the screen showed:\n{screen}")

    def alive(self) -> bool:
        assert TMUX is not None
        return subprocess.run([TMUX, "has-session", "-t", self.name]).returncode == 0

    def close(self) -> None:
        assert TMUX is not None
        subprocess.run([TMUX, "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"{sys.executable} -m palyra_tui demo; echo PALYRA-EXITED=$?; sleep 30")
    try:
        yield term
    finally:
        term.close()


def test_chat_approve_by_keyboard_and_see_the_result(terminal: Terminal) -> None:
    terminal.wait_for("HEALTHY", "connected", "gateway", "running")
    terminal.keys("3")
    terminal.wait_for("no session")
    terminal.keys("C-n")
    terminal.wait_for("palyra-tui", "New session")
    time.sleep(0.5)
    terminal.type("please run echo hello")
    terminal.keys("Enter")
    terminal.wait_for("you ›")
    terminal.wait_for("approval needed", "palyra.process.run")
    terminal.keys("Escape")
    time.sleep(0.3)
    terminal.keys("4")
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
    time.sleep(0.6)
    terminal.keys("y")
    terminal.wait_for("PALYRA-EXITED=0", timeout=30)
