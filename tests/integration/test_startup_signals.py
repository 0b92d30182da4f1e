"""Ctrl-C before palyra-tui is up: one sentence and exit code 130, never a traceback.

A config file that is a FIFO holds start-up still at a known point (reading the
config).  The signal is sent there, then the writer closes: a signal that
arrived just before the blocking read began is only run by Python once the
read returns, and the kernel has it pending before the end of file is seen.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import child

DEADLINE = 60.0
INTERRUPTED = "palyra-tui: interrupted; nothing it started is left running"


def _default_sigint() -> None:
    """A shell that runs the suite in the background starts it with SIGINT ignored, and
    an ignored SIGINT is inherited; palyra-tui rightly keeps it ignored then."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def writer_once_read(fifo: Path, process: subprocess.Popen[str]) -> int:
    """Open ``fifo`` for writing as soon as ``process`` has it open for reading."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    raise AssertionError("palyra-tui never opened its config file")


@pytest.fixture
def fifo_config(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tui.toml"
    os.mkfifo(path)
    yield path


@pytest.mark.parametrize("command", [["supervise"], []], ids=["supervise", "control-center"])
def test_ctrl_c_while_reading_the_config(fifo_config: Path, command: list[str]) -> None:
    process = start(*command, "--config", str(fifo_config))
    writer = writer_once_read(fifo_config, process)
    try:
        process.send_signal(signal.SIGINT)
        os.close(writer)
        writer = -1
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if writer >= 0:
            os.close(writer)
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert err.splitlines() == [INTERRUPTED]
    assert out == ""
    assert process.returncode == 130


def test_ctrl_c_while_the_supervisor_opens(tmp_path: Path) -> None:
    """The signal lands while the state directory is being set up: either before any
    service started (the sentence, 130) or after (the documented clean stop, 0)."""
    root = tmp_path / "state"
    config = tmp_path / "tui.toml"
    config.write_text(
        f"state_root = {json.dumps(str(root))}\n"
        "[services.gateway]\nenabled = false\n[services.browserd]\nenabled = false\n"
        f"[services.sleeper]\ncommand = {json.dumps(child('hang'))}\n"
    )
    process = start("supervise", "--config", str(config))
    try:
        deadline = time.monotonic() + DEADLINE
        while not (root / "tui").exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.0005)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in err
    if process.returncode == 130:
        assert err.splitlines() == [INTERRUPTED]
        assert out == ""
    else:
        assert process.returncode == 0, err
        assert err == ""
        records = [json.loads(line) for line in out.splitlines()]
        assert any(r.get("service") == "sleeper" and r["state"] == "stopped" for r in records)
