"""The instance lock: one supervisor per state root, recovered after any crash, kept when
the lock file is deleted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from palyra_tui.errors import InstanceLocked, StateRootUnusable
from palyra_tui.supervisor.lock import InstanceLock
from tests.filesystems import full_disk

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


def test_deleting_the_lock_file_does_not_free_the_state_root(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    try:
        (tmp_path / "instance.lock").unlink()
        with pytest.raises(InstanceLocked, match="already supervising"):
            InstanceLock(tmp_path).acquire()
        (tmp_path / "instance.lock").write_text("garbage\n")
        with pytest.raises(InstanceLocked, match="already supervising"):
            InstanceLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    with InstanceLock(tmp_path) as lock:
        assert lock.held


def test_releasing_leaves_a_newer_owner_file_alone(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    lock.acquire()
    lock.path.unlink()
    lock.path.write_text("pid=1\n")
    lock.release()
    assert lock.path.read_text() == "pid=1\n"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda root: root.write_text(""), "it is not a directory"),
        (lambda root: (root / "tui").write_text(""), "tui is not a directory"),
    ],
    ids=["root-is-a-file", "tui-is-a-file"],
)
def test_a_state_root_that_cannot_hold_the_directory_says_why(
    tmp_path: Path, make: Callable[[Path], object], reason: str
) -> None:
    root = tmp_path / "state"
    if "tui" in reason:
        root.mkdir()
    make(root)
    with pytest.raises(StateRootUnusable, match=f"cannot use the state root {root}: .*{reason}"):
        InstanceLock(root / "tui").acquire()


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    with full_disk(tmp_path / "disk") as disk:
        lock = InstanceLock(disk / "state" / "tui")
        with pytest.raises(StateRootUnusable, match="no space is left on its device"):
            lock.acquire()
        assert not lock.held
        assert not (disk / "state" / "tui" / ".instance.lock.new").exists()
