"""One supervisor per state root: an instance lock that a crash cannot leave behind
and deleting a file cannot break.

The lock is an ``flock`` on palyra-tui's state directory itself
(``<state_root>/tui``, opened with ``O_DIRECTORY``), held for the life of the
supervisor.  A lock on a file is lost when someone deletes the file: the next
supervisor creates a new file and locks that one.  The directory cannot be
removed while it holds the daemons' runtime, and the kernel drops the lock when
the process dies, however it dies, so a lock left by a crashed run is recovered
without guessing from pids (the desktop companion's pid check races between
create and write).

``instance.lock`` in that directory only names the owner
(``pid=<pid>``, ``started_at_unix_ms=<ms>``) for the refusal; deleting it
changes nothing.  A state root that cannot hold the directory (a file, a
read-only file system, a full disk) is a :class:`StateRootUnusable` with one
sentence saying which.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from palyra_tui.config.dirs import private_dir, unusable
from palyra_tui.errors import InstanceLocked

LOCK_NAME = "instance.lock"


class InstanceLock:
    """Holds the lock on ``state_dir`` until :meth:`release`."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None
        self._owner_text = b""

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`InstanceLocked` naming the owner, or
        :class:`StateRootUnusable` saying why the directory cannot be used."""
        if self._fd is not None:
            return
        try:
            self._take()
        except OSError as exc:
            raise unusable(self.directory.parent, exc) from None

    def _take(self) -> None:
        for _ in range(5):
            private_dir(self.directory)
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if not _same_inode(fd, self.directory):
                    os.close(fd)
                    continue
                self._owner_text = _write_owner(self.path)
            except BlockingIOError:
                os.close(fd)
                raise InstanceLocked(
                    "another palyra-tui is already supervising the state root "
                    f"{self.directory.parent}{_owner(self.path)} (lock {self.directory})"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return
        raise InstanceLocked(f"could not take the instance lock on {self.directory}")

    def release(self) -> None:
        """Remove the owner file and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if _read_owner(self.path) == self._owner_text:
                self.path.unlink()
        os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def holder(state_dir: Path) -> int | None:
    """The pid that says it holds the instance lock of ``state_dir``, if it still runs
    (blocking; without touching the lock, which a starting supervisor may be taking)."""
    text = _read_owner(state_dir / LOCK_NAME).decode("utf-8", errors="replace")
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "pid" and value.strip().isdigit():
            pid = int(value.strip())
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass  # alive, and someone else's
            return pid
    return None


def _write_owner(path: Path) -> bytes:
    """Write who holds the lock; replaced whole, so a reader never sees half of it."""
    staged = path.with_name(f".{path.name}.new")
    text = f"pid={os.getpid()}\nstarted_at_unix_ms={int(time.time() * 1000)}\n".encode()
    try:
        fd = os.open(
            staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            os.write(fd, text)
        finally:
            os.close(fd)
        os.replace(staged, path)
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise
    return text


def _same_inode(fd: int, path: Path) -> bool:
    """True when ``path`` still names the directory open at ``fd`` (not replaced meanwhile)."""
    held = os.fstat(fd)
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _read_owner(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            return os.read(fd, 256)
        finally:
            os.close(fd)
    except OSError:
        return b""


def _owner(path: Path) -> str:
    text = _read_owner(path).decode("utf-8", errors="replace")
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "pid" and value.strip().isdigit():
            return f" (pid {value.strip()})"
    return ""
