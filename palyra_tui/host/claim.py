"""Taking the socket path: recover a dead host's socket, never steal a live one.

gRPC unlinks whatever socket sits at the path before it binds, so a second
host would silently take the socket from a live one.  Before binding, a host
therefore:

1. takes ``host.lock`` next to the socket with ``flock`` (the kernel drops it
   when the holder dies, however it dies); a held lock means a live host;
2. probes the socket file: a ``connect`` that succeeds (or finds a full
   backlog) means something listens, and it is left alone; ``ECONNREFUSED``
   means nobody does (a killed host left it), and the file is removed.

The lock makes the check safe between two hosts starting at once; the probe
protects a listener that is not a palyra-tui host at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat

from palyra_tui.errors import HostAlreadyRunning, HostUnsafeDirectory
from palyra_tui.host.paths import HostPaths


class SocketClaim:
    """Holds ``host.lock`` and a clear socket path until :meth:`release`."""

    def __init__(self, paths: HostPaths) -> None:
        self.paths = paths
        self._fd: int | None = None
        self._bound: tuple[int, int] | None = None

    def acquire(self) -> None:
        """Take the lock and clear a stale socket, or raise naming who holds the path."""
        fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(fd)
            os.close(fd)
            raise HostAlreadyRunning(
                f"a runtime host{owner} is already listening on {self.paths.socket}: "
                "attach to it, or stop it with `palyra-tui down`"
            ) from None
        try:
            _clear_stale(self.paths)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid={os.getpid()}\n".encode())
        self._fd = fd

    def bound(self) -> None:
        """Remember the socket just bound, so that release removes only this one."""
        info = os.lstat(self.paths.socket)
        self._bound = (info.st_dev, info.st_ino)

    def release(self) -> None:
        """Remove our socket file (not a successor's) and drop the lock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            info = os.lstat(self.paths.socket)
            if (info.st_dev, info.st_ino) == self._bound:
                os.unlink(self.paths.socket)
        os.close(fd)


def _clear_stale(paths: HostPaths) -> None:
    path = paths.socket
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise HostUnsafeDirectory(
            f"{path} exists and is not a socket: remove it and start the runtime host again"
        )
    if info.st_uid != os.geteuid():
        raise HostUnsafeDirectory(
            f"the socket {path} belongs to uid {info.st_uid}, not to you: remove it and start again"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(os.fspath(path))
    except ConnectionRefusedError:
        os.unlink(path)
        return
    except FileNotFoundError:
        return
    except BlockingIOError:
        pass  # a full backlog: a listener that is busy, but alive
    except OSError as error:
        raise HostUnsafeDirectory(f"cannot probe the socket {path}: {error.strerror}") from None
    finally:
        probe.close()
    raise HostAlreadyRunning(
        f"something is already listening on {path}: the runtime host will not take its socket"
    )


def _owner(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", errors="replace")
    except OSError:
        return ""
    key, _, value = text.strip().partition("=")
    return f" (pid {value})" if key == "pid" and value.isdigit() else ""
