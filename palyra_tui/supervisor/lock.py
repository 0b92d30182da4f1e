"""One supervisor per state root: an instance lock that a crash cannot leave behind.

The lock is an ``flock`` on ``<state_dir>/instance.lock``, held for the life of
the supervisor.  The kernel drops it when the process dies, however it dies, so
a lock left by a crashed run is recovered without guessing from pids (the
desktop companion's pid check, spec §1.11, races between create and write).
The file still says ``pid=<pid>`` and ``started_at_unix_ms=<ms>`` so that the
refusal can name the owner.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from palyra_tui.config.dirs import private_dir
from palyra_tui.errors import InstanceLocked

LOCK_NAME = "instance.lock"


class InstanceLock:
    """Holds ``<state_dir>/instance.lock`` until :meth:`release`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`InstanceLocked` naming the owner."""
        if self._fd is not None:
            return
        private_dir(self.path.parent)
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _owner(fd)
                os.close(fd)
                raise InstanceLocked(
                    "palyra-tui is already supervising the state root "
                    f"{self.path.parent.parent}{owner} (lock {self.path})"
                ) from None
            if not _same_file(fd, self.path):
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            started = int(time.time() * 1000)
            os.write(fd, f"pid={os.getpid()}\nstarted_at_unix_ms={started}\n".encode())
            os.fsync(fd)
            self._fd = fd
            return
        raise InstanceLocked(f"could not take the instance lock {self.path}")

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                self.path.unlink()
        os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    """True when ``path`` still names the file open at ``fd`` (not unlinked meanwhile)."""
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _owner(fd: int) -> str:
    try:
        text = os.pread(fd, 256, 0).decode("utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "pid" and value.strip().isdigit():
            return f" (pid {value.strip()})"
    return ""
