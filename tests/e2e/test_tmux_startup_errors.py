"""What a person sees when palyra-tui cannot open the runtime: the reason, on screen.

A deeply nested config value and a state root that is a file used to end in a
traceback before the first frame.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_tmux_demo import START_DEADLINE, TMUX, Terminal

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def deeply_nested(tmp_path: Path) -> str:
    config = tmp_path / "tui.toml"
    config.write_text("log_lines = " + "[" * 2000 + "]" * 2000 + "\n")
    return "nested too deeply"


def state_root_is_a_file(tmp_path: Path) -> str:
    root = tmp_path / "state"
    root.write_text("")
    (tmp_path / "tui.toml").write_text(f"state_root = {json.dumps(str(root))}\n")
    return "cannot use the state root"


@pytest.mark.parametrize("make", [deeply_nested, state_root_is_a_file])
def test_the_reason_is_drawn_and_quitting_is_clean(
    tmp_path: Path, make: Callable[[Path], str]
) -> None:
    reason = make(tmp_path)
    config = shlex.quote(str(tmp_path / "tui.toml"))
    terminal = Terminal(
        f"TMPDIR={shlex.quote(str(tmp_path))} {sys.executable} -m palyra_tui --config {config}"
        " 2>&1; echo PALYRA-EXITED=$?; sleep 30"
    )
    try:
        screen = terminal.wait_for(reason, "DOWN", timeout=START_DEADLINE)
        assert "Traceback" not in screen
        terminal.keys("C-q")
        screen = terminal.wait_for("PALYRA-EXITED=0")
        assert "Traceback" not in screen
    finally:
        terminal.close()
    assert list(tmp_path.glob("palyra-tui-error-*")) == []
