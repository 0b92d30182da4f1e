"""One supervisor per state root: an instance lock with stale-lock recovery.

The lock file holds ``pid=<pid>`` and ``started_at_unix_ms=<ms>`` (spec §1.11).
It is created exclusively; an existing file whose pid is dead, or that names no
pid at all, is stale and is replaced.  A pid that is alive but belongs to a
process started after the lock was written (the pid was reused) is stale too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path

import psutil

from palyra_tui.errors import InstanceLocked

LOCK_NAME = "instance.lock"


class InstanceLock:
    """Holds ``<state_dir>/instance.lock`` until :meth:`release`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._held = False

    def acquire(self) -> None:
        """Take the lock, recovering a stale one, or raise :class:`InstanceLocked`."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                if self._owner_alive():
                    raise InstanceLocked(
                        "palyra-tui is already supervising the state root "
                        f"{self.path.parent.parent} (lock {self.path})"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                continue
            try:
                started = int(time.time() * 1000)
                os.write(fd, f"pid={os.getpid()}\nstarted_at_unix_ms={started}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self._held = True
            return
        raise InstanceLocked(f"could not take the instance lock {self.path}")

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if not self._held:
            return
        self._held = False
        with contextlib.suppress(OSError):
            if _read_pid(self.path) == os.getpid():
                self.path.unlink()

    def _owner_alive(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        pid = _parse_field(text, "pid")
        if pid is None or pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                return False
            if exc.errno != errno.EPERM:
                return False
        started_ms = _parse_field(text, "started_at_unix_ms")
        if started_ms is not None:
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).create_time() * 1000 > started_ms + 1000:
                    return False
        return True

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        return _parse_field(path.read_text(encoding="utf-8", errors="replace"), "pid")
    except OSError:
        return None


def _parse_field(text: str, name: str) -> int | None:
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None
