"""Start a service in its own process group, watch it, and end the whole group.

* Each service gets its own process group (``process_group=0``), so one
  ``killpg`` reaches its children and grandchildren, and a Ctrl-C typed at the
  terminal does not reach the daemons before palyra-tui can stop them in order.
* A service does not run its program until it is registered.  It starts as a
  tiny exec shim (Python, ``-I -S``) that arms the parent-death signal
  (``PR_SET_PDEATHSIG``), checks that its parent is still the supervisor, and
  waits on a pipe.  The supervisor registers the process group with the
  watchdog (:mod:`.reaper`) and only then lets the shim ``exec`` the program.
  A supervisor killed in between leaves nothing running: the shim sees the
  pipe close, or the death signal, or a foreign parent, and exits.  No
  ``preexec_fn``: it is unsafe once threads exist.
* Exit is detected through a pidfd on the event loop (``os.pidfd_open`` +
  ``add_reader``), not by polling; where pidfds are missing a thread waits.
* stdout and stderr are read in 64 KiB chunks straight from the pipe fds.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from palyra_tui.errors import PalyraError

READ_SIZE = 64 * 1024
log = logging.getLogger(__name__)
EXEC_FAILED = 127

_SHIM = r"""
import os, signal, sys
go, err, parent = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
except Exception:
    pass
if os.getppid() != parent or os.read(go, 1) != b"g":
    os._exit(0)
os.close(go)
for signum in (signal.SIGPIPE, signal.SIGXFSZ):
    signal.signal(signum, signal.SIG_DFL)
os.set_inheritable(err, False)
try:
    os.execv(sys.argv[4], sys.argv[4:])
except OSError as exc:
    os.write(err, (exc.strerror or str(exc)).encode("utf-8", "replace")[:512])
os._exit(127)
"""


class SpawnError(PalyraError):
    """The process could not be started; the message says why."""


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """A decoded wait status."""

    code: int | None
    signal: int | None
    exec_error: str | None = None
    """Set when the program could not be executed: the service never ran."""


def decode_wait_status(status: int) -> ExitStatus:
    """Turn a raw ``waitpid`` status into an exit code or a signal number."""
    if os.WIFSIGNALED(status):
        return ExitStatus(code=None, signal=os.WTERMSIG(status))
    if os.WIFEXITED(status):
        return ExitStatus(code=os.WEXITSTATUS(status), signal=None)
    return ExitStatus(code=None, signal=None)


class Child:
    """One running process and its process group, driven from one event loop.

    ``on_output(stream_index, data)`` receives raw chunks (0 = stdout,
    1 = stderr, ``b""`` at end of stream); ``on_exit(status)`` is called once,
    after the output that was already in the pipes has been read.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        popen: subprocess.Popen[bytes],
        gates: tuple[int, int],
        on_output: Callable[[int, bytes], None],
        on_exit: Callable[[ExitStatus], None],
    ) -> None:
        self.pid = popen.pid
        self.pgid = popen.pid
        self._loop = loop
        self._popen = popen
        self._go: int | None = gates[0]
        self._exec_status = gates[1]
        self._on_output = on_output
        self._on_exit = on_exit
        self._fds: dict[int, int] = {}
        self._pipes: dict[int, IO[bytes]] = {}
        self.exited = False
        self._pidfd: int | None = None
        for index, pipe in enumerate((popen.stdout, popen.stderr)):
            if pipe is None:
                continue
            fd = pipe.fileno()
            os.set_blocking(fd, False)
            self._fds[fd] = index
            self._pipes[fd] = pipe
            loop.add_reader(fd, self._read, fd)
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        if self._pidfd is not None:
            loop.add_reader(self._pidfd, self._reap)
        else:
            threading.Thread(target=self._wait_thread, name=f"wait-{self.pid}", daemon=True).start()

    def release(self) -> None:
        """Let the program run: call once the process group is registered."""
        go, self._go = self._go, None
        if go is None:
            return
        with contextlib.suppress(OSError):
            os.write(go, b"g")
        os.close(go)

    @property
    def pipes_open(self) -> bool:
        """True until both output pipes reached end of stream."""
        return bool(self._fds)

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the whole process group; False if it is already gone."""
        try:
            os.killpg(self.pgid, signum)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False
        return True

    def close_pipes(self) -> None:
        """Stop reading output (used when a grandchild keeps a pipe open)."""
        for fd in list(self._fds):
            self._close_fd(fd)

    def _read(self, fd: int) -> None:
        index = self._fds.get(fd)
        if index is None:
            return
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self._deliver(index, data)
        if not data:
            self._close_fd(fd)

    def _deliver(self, index: int, data: bytes) -> None:
        try:
            self._on_output(index, data)
        except Exception:
            log.exception("output handler of pid %s failed", self.pid)

    def _drain(self) -> None:
        for fd in list(self._fds):
            for _ in range(64):
                if fd not in self._fds:
                    break
                try:
                    data = os.read(fd, READ_SIZE)
                except BlockingIOError:
                    break
                except OSError:
                    data = b""
                self._deliver(self._fds[fd], data)
                if not data:
                    self._close_fd(fd)

    def _close_fd(self, fd: int) -> None:
        if self._fds.pop(fd, None) is None:
            return
        self._loop.remove_reader(fd)
        pipe = self._pipes.pop(fd)
        with contextlib.suppress(OSError):
            pipe.close()

    def _reap(self) -> None:
        if self.exited:
            return
        # The leader is a zombie until reaped, so its pgid cannot be reused yet:
        # killing the rest of the group now is safe.
        self.signal_group(signal.SIGKILL)
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return
        self._finish(status)

    def _finish(self, status: int) -> None:
        self.exited = True
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self.release()
        decoded = decode_wait_status(status)
        exec_error = self._read_exec_status()
        if exec_error is not None:
            decoded = ExitStatus(decoded.code, decoded.signal, exec_error)
        self._popen.returncode = (
            -decoded.signal if decoded.signal is not None else (decoded.code or 0)
        )
        try:
            self._drain()
        finally:
            self._on_exit(decoded)

    def _read_exec_status(self) -> str | None:
        """Why the shim could not run the program, if it could not."""
        fd, self._exec_status = self._exec_status, -1
        if fd < 0:
            return None
        try:
            os.set_blocking(fd, False)
            data = os.read(fd, 1024)
        except OSError:
            data = b""
        finally:
            os.close(fd)
        return data.decode("utf-8", errors="replace") if data else None

    def _wait_thread(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 0
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._after_thread_wait, status)

    def _after_thread_wait(self, status: int) -> None:
        if not self.exited:
            self.signal_group(signal.SIGKILL)
            self._finish(status)


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``; blocking.

    Reads ``/proc`` directly: a zombie still answers ``killpg(pgid, 0)``, but it
    no longer runs anything, so it does not count as surviving.
    """
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def spawn(
    loop: asyncio.AbstractEventLoop,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path | None,
    on_output: Callable[[int, bytes], None],
    on_exit: Callable[[ExitStatus], None],
) -> Child:
    """Start ``argv`` in a new process group with piped output, or raise :class:`SpawnError`.

    The program does not run before :meth:`Child.release`.
    """
    _check_runnable(argv[0], cwd)
    go_read, go_write = os.pipe()
    status_read, status_write = os.pipe()
    shim = [sys.executable, "-I", "-S", "-c", _SHIM, str(go_read), str(status_write)]
    try:
        popen = subprocess.Popen(
            [*shim, str(os.getpid()), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            close_fds=True,
            pass_fds=(go_read, status_write),
            process_group=0,
        )
    except BaseException as exc:
        for fd in (go_write, status_read):
            os.close(fd)
        if isinstance(exc, FileNotFoundError) and cwd is not None and not cwd.is_dir():
            raise SpawnError(f"working directory '{cwd}' does not exist") from None
        if isinstance(exc, OSError):
            reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
            raise SpawnError(f"cannot start '{argv[0]}': {reason}") from None
        raise
    finally:
        os.close(go_read)
        os.close(status_write)
    return Child(loop, popen, (go_write, status_read), on_output, on_exit)


def _check_runnable(program: str, cwd: Path | None) -> None:
    """The reasons a start would fail that can be told before it is tried."""
    if cwd is not None and not cwd.is_dir():
        raise SpawnError(f"working directory '{cwd}' does not exist")
    path = Path(program) if cwd is None or os.path.isabs(program) else cwd / program
    if not path.exists():
        raise SpawnError(f"'{program}' does not exist")
    if path.is_dir() or not os.access(path, os.X_OK):
        raise SpawnError(f"permission denied running '{program}'")
