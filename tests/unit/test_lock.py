"""The instance lock: one supervisor per state root, stale locks recovered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from palyra_tui.errors import InstanceLocked
from palyra_tui.supervisor.lock import InstanceLock


def test_second_acquire_fails_while_held_and_succeeds_after_release(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire()
    text = first.path.read_text()
    assert f"pid={os.getpid()}" in text
    assert "started_at_unix_ms=" in text
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        first.path.write_text(f"pid={holder.pid}\nstarted_at_unix_ms=9999999999999\n")
        with pytest.raises(InstanceLocked, match="already supervising"):
            InstanceLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_dead_process_is_recovered(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock_file = tmp_path / "instance.lock"
    lock_file.write_text(f"pid={dead.stdout.strip()}\nstarted_at_unix_ms=1\n")
    lock = InstanceLock(tmp_path)
    lock.acquire()
    assert f"pid={os.getpid()}" in lock_file.read_text()
    lock.release()
    assert not lock_file.exists()


def test_lock_without_pid_is_stale(tmp_path: Path) -> None:
    (tmp_path / "instance.lock").write_text("garbage\n")
    with InstanceLock(tmp_path) as lock:
        assert f"pid={os.getpid()}" in lock.path.read_text()


def test_lock_whose_pid_was_reused_is_stale(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "instance.lock").write_text(f"pid={holder.pid}\nstarted_at_unix_ms=1000\n")
        with InstanceLock(tmp_path) as lock:
            assert f"pid={os.getpid()}" in lock.path.read_text()
    finally:
        holder.kill()
        holder.wait()


def test_release_leaves_a_lock_taken_over_by_another_process(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    lock.acquire()
    lock.path.write_text("pid=1\nstarted_at_unix_ms=1\n")
    lock.release()
    assert lock.path.exists()
