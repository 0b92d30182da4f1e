"""A first run in a real terminal: onboarding from Welcome to Completion by keyboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from palyra_tui.cli.demo import demo_document
from tests.e2e.test_tmux_demo import START_DEADLINE, TMUX, Terminal
from tests.e2e.test_tmux_host import Rig

KEY = "sk-e2e-first-run-0123456789abcdef"
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def step_to(terminal: Terminal, title: str) -> str:
    return terminal.wait_for(f"now: {title}")


def panel_text(screen: str) -> str:
    """The right-hand panel's words on one line: a sentence it wraps reads whole."""
    words = []
    for line in screen.splitlines():
        if "│" in line:
            words += line.split("│", 1)[1].replace("█", " ").split()
    return " ".join(words)


def test_a_first_run_goes_from_welcome_to_the_control_center(tmp_path: Path) -> None:
    document: dict[str, Any] = demo_document(tmp_path / "state")
    rig = Rig(tmp_path, document, onboarded=False)
    try:
        terminal = rig.attach(width=120, height=36)
        terminal.wait_for("Onboarding", "now: Welcome", timeout=START_DEADLINE)
        terminal.keys("Enter")
        step_to(terminal, "Local state root")
        terminal.keys("Enter")
        screen = terminal.wait_until(
            lambda s: "now: OpenAI connect" in s, "the OpenAI step", timeout=START_DEADLINE
        )
        assert "✔ Gateway init" in screen and "✔ Operator auth bootstrap" in screen
        terminal.type("not-a-key")
        terminal.keys("Enter")
        terminal.wait_until(
            lambda s: "OpenAI credential is invalid" in panel_text(s), "the key refused"
        )
        terminal.type(KEY)
        screen = terminal.wait_for("•" * 20)
        assert KEY not in screen
        terminal.keys("Enter")
        step_to(terminal, "Discord connect and verify")
        terminal.press_until("s", lambda s: "now: Dashboard handoff" in s, "Discord skipped")
        terminal.press_until("s", lambda s: "9 of 9 steps complete" in s, "onboarding complete")
        terminal.keys("Escape")
        terminal.wait_for("Health", "HEALTHY")
        rig.drop(terminal)
        again = rig.attach(width=120, height=36)
        again.wait_for("Health", "HEALTHY", timeout=START_DEADLINE)
        assert "Onboarding" not in again.screen()
        rig.drop(again)
        rig.down()
    finally:
        rig.clean_up()
    leaks = [
        str(path)
        for path in (tmp_path / "state").rglob("*")
        if path.is_file() and KEY.encode() in path.read_bytes()
    ]
    assert leaks == []
