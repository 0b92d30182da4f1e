"""The instance lock: one supervisor per state root, recovered after any crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from palyra_tui.errors import InstanceLocked
from palyra_tui.supervisor.lock import InstanceLock

HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from palyra_tui.supervisor.lock import InstanceLock\n"
    "InstanceLock(Path(sys.argv[1])).acquire()\n"
    "print('locked', flush=True)\n"
    "time.sleep(60)\n"
)


def hold_in_child(state_dir: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    return child


def test_lock_names_its_owner_and_refuses_a_second_holder(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire()
    text = first.path.read_text()
    assert f"pid={os.getpid()}" in text and "started_at_unix_ms=" in text
    with pytest.raises(InstanceLocked, match=rf"already supervising .*pid {os.getpid()}"):
        InstanceLock(tmp_path).acquire()
    first.release()
    assert not first.path.exists()
    second = InstanceLock(tmp_path)
    second.acquire()
    assert second.held
    second.release()


def test_another_process_holding_the_lock_is_refused(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    try:
        with pytest.raises(InstanceLocked, match=f"pid {child.pid}"):
            InstanceLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    if child.stdout is not None:
        child.stdout.close()
    assert f"pid={child.pid}" in (tmp_path / "instance.lock").read_text()
    with InstanceLock(tmp_path) as lock:
        assert f"pid={os.getpid()}" in lock.path.read_text()


def test_stale_garbage_lock_file_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / "instance.lock").write_text("garbage\n")
    with InstanceLock(tmp_path) as lock:
        assert lock.path.read_text().startswith(f"pid={os.getpid()}\n")
