"""One supervisor per state root, with real ``palyra-tui supervise`` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import child

DEADLINE = 60.0


def supervise(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", "supervise", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def test_deleting_the_lock_file_does_not_let_a_second_supervisor_run(tmp_path: Path) -> None:
    root = tmp_path / "state"
    config = tmp_path / "tui.toml"
    config.write_text(
        f"state_root = {json.dumps(str(root))}\n"
        "[services.gateway]\nenabled = false\n[services.browserd]\nenabled = false\n"
        f"[services.sleeper]\ncommand = {json.dumps(child('hang'))}\n"
    )
    first = supervise(config)
    try:
        assert first.stdout is not None
        for line in first.stdout:
            record = json.loads(line)
            if record.get("service") == "sleeper" and record.get("state") == "running":
                break
        lock_file = root / "tui" / "instance.lock"
        assert f"pid={first.pid}" in lock_file.read_text()
        lock_file.unlink()

        second = supervise(config)
        out, err = second.communicate(timeout=DEADLINE)
        assert second.returncode == 3, err
        assert err.splitlines() == [
            f"palyra-tui: another palyra-tui is already supervising the state root {root} "
            f"(lock {root / 'tui'})"
        ]
        assert out == ""
        assert first.poll() is None

        first.send_signal(signal.SIGINT)
        _, first_err = first.communicate(timeout=DEADLINE)
        assert first.returncode == 0
        assert first_err == ""
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
