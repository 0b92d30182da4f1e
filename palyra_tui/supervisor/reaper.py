"""A watchdog process that kills everything palyra-tui started if palyra-tui dies.

The parent-death signal only reaches a service's main process.  The watchdog
is a tiny Python process (no imports from this package, started with
``-I -S``) in its own session that reads registrations on stdin:

* ``+g PGID`` / ``-g PGID``: a service's process group;
* ``+p PID START`` / ``-p PID``: a descendant that may have left its group
  (``setsid``, a double fork).  The watchdog opens a pidfd for it at once and
  checks the start time, so a reused pid is never signalled;
* ``i INSTANCE``: the lineage mark prefix of this supervisor.

When stdin reaches end of file, which the kernel guarantees the moment
palyra-tui exits for any reason, SIGKILL included, it kills every registered
group and descendant, and then, a few times over, every process whose
environment carries this supervisor's lineage mark: that finds what was
forked after the last registration.

A watchdog that ends while palyra-tui runs leaves the services unguarded.  The
supervisor notices on its next tick, logs it once, and starts a new watchdog
with everything registered so far, already waiting in its pipe when it starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, replace

from palyra_tui.supervisor.lineage import MARK_VAR, Tracked

_PROGRAM = r"""
import os, signal, sys
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(signum, signal.SIG_IGN)
MARK = sys.argv[1].encode() + b"="

def start_of(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            stat = handle.read()
        return int(stat[stat.rfind(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None

groups, fds, instance = set(), {}, None
for raw in sys.stdin.buffer:
    parts = raw.split()
    if len(parts) < 2:
        continue
    try:
        if parts[0] == b"+g":
            groups.add(int(parts[1]))
        elif parts[0] == b"-g":
            groups.discard(int(parts[1]))
        elif parts[0] == b"+p" and len(parts) == 3:
            pid = int(parts[1])
            fd = os.pidfd_open(pid)
            if start_of(pid) == int(parts[2]):
                old = fds.pop(pid, None)
                if old is not None:
                    os.close(old)
                fds[pid] = fd
            else:
                os.close(fd)
        elif parts[0] == b"-p":
            fd = fds.pop(int(parts[1]), None)
            if fd is not None:
                os.close(fd)
        elif parts[0] == b"i":
            instance = parts[1] + b":"
    except (OSError, ValueError):
        pass
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
for fd in fds.values():
    try:
        signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        pass
for _ in range(5 if instance else 0):
    found = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.pidfd_open(int(name))
        except OSError:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as handle:
                environ = handle.read()
            if any(item.startswith(MARK + instance) for item in environ.split(b"\0")):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
                found += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    if not found:
        break
"""


RESTART_PAUSE = 5.0
"""Seconds after replacing a lost watchdog before another is started: one that cannot
live is not started twice a second."""


@dataclass(frozen=True, slots=True)
class WatchdogLoss:
    """The watchdog ended while palyra-tui still runs: what it was, and what replaced it."""

    pid: int
    how: str
    """``was killed by SIGKILL``, ``exited with code 1``."""
    replaced_by: int | None
    """The new watchdog's pid; None while none could be started (yet)."""
    groups: int
    processes: int
    error: str = ""
    """Why no new watchdog started, when one could not be."""

    def sentence(self) -> str:
        """What an operator reads in the log."""
        lost = (
            f"the watchdog that kills the services if palyra-tui dies (pid {self.pid}) {self.how}"
        )
        if self.replaced_by is None:
            why = f" ({self.error})" if self.error else ""
            return (
                f"{lost}; no new watchdog runs yet{why}: until one does, services would "
                "outlive palyra-tui if it were killed"
            )
        return (
            f"{lost}; started a new one (pid {self.replaced_by}) watching "
            f"{_count(self.groups, 'process group')} and "
            f"{_count(self.processes, 'other process', 'other processes')}"
        )


class Reaper:
    """The supervisor's side of the watchdog.

    It remembers what it registered, so that a watchdog lost while palyra-tui runs
    (killed by someone, or by the OOM killer) is replaced by one that guards the same
    groups and processes: :meth:`check`, from the supervisor's tick.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: int | None = None
        """The write end of the watchdog's stdin; its close is the watchdog's cue."""
        self._instance = ""
        self._groups: set[int] = set()
        self._processes: dict[int, int] = {}
        self._replaced_at: float | None = None
        self._waiting: WatchdogLoss | None = None
        self._closed = False

    def start(self, instance: str = "") -> None:
        """Start the watchdog (idempotent); failure only loses the safety net."""
        if self._process is not None:
            return
        self._instance = instance or self._instance
        self._closed = False
        self._spawn()

    @property
    def pid(self) -> int | None:
        """The watchdog's pid, while it runs."""
        return self._process.pid if self._process is not None else None

    def watch(self, pgid: int) -> None:
        """Kill group ``pgid`` if palyra-tui dies before :meth:`forget`."""
        self._groups.add(pgid)
        self._send(f"+g {pgid}\n")

    def forget(self, pgid: int) -> None:
        """Group ``pgid`` has ended; stop watching it."""
        self._groups.discard(pgid)
        self._send(f"-g {pgid}\n")

    def watch_processes(self, processes: list[Tracked]) -> None:
        """Kill these descendants too if palyra-tui dies."""
        if processes:
            self._processes.update((p.pid, p.start) for p in processes)
            self._send("".join(f"+p {p.pid} {p.start}\n" for p in processes))

    def forget_processes(self, processes: set[Tracked]) -> None:
        """These descendants have ended."""
        if processes:
            for process in processes:
                self._processes.pop(process.pid, None)
            self._send("".join(f"-p {p.pid}\n" for p in processes))

    def check(self, now: float) -> WatchdogLoss | None:
        """Non-blocking: when the watchdog has ended, start another with everything
        registered so far, and say what happened (once per loss).

        A replacement lost within :data:`RESTART_PAUSE` seconds is replaced once that
        much time has passed; the call that starts it says so again.
        """
        if self._closed:
            return None
        waiting = self._waiting
        if waiting is not None:
            if self._recently_replaced(now):
                return None
            return self._replace(waiting, now)
        process = self._process
        if process is None or process.poll() is None:
            return None
        self._process = None
        self._close_pipe()
        loss = WatchdogLoss(
            pid=process.pid,
            how=_describe(process.returncode),
            replaced_by=None,
            groups=len(self._groups),
            processes=len(self._processes),
        )
        if self._recently_replaced(now):
            self._waiting = loss
            return loss
        return self._replace(loss, now)

    def close(self) -> None:
        """Let the watchdog exit (it kills whatever is still registered)."""
        self._closed = True
        process, self._process = self._process, None
        self._close_pipe()
        if process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2)

    def _recently_replaced(self, now: float) -> bool:
        return self._replaced_at is not None and now - self._replaced_at < RESTART_PAUSE

    def _replace(self, loss: WatchdogLoss, now: float) -> WatchdogLoss | None:
        """Start the next watchdog; the loss as reported, or None if it was reported."""
        reported = self._waiting is not None
        self._replaced_at = now
        error = self._spawn()
        if error:
            self._waiting = replace(loss, error=error)
            return None if reported and loss.error else self._waiting
        self._waiting = None
        return replace(
            loss,
            replaced_by=self.pid,
            groups=len(self._groups),
            processes=len(self._processes),
            error="",
        )

    def _spawn(self) -> str:
        """Start a watchdog that holds every registration; returns why it could not.

        The registrations are in its stdin pipe before it is forked: a supervisor killed
        the moment the watchdog runs (before it could write another byte) still leaves
        it armed.  What does not fit in the pipe follows at once.
        """
        try:
            read_end, write_end = os.pipe()
        except OSError as error:
            return error.strerror or str(error)
        try:
            rest = _preload(write_end, self._registrations())
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _PROGRAM, MARK_VAR],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as error:
            os.close(write_end)
            return error.strerror or str(error)
        finally:
            os.close(read_end)
        self._pipe = write_end
        self._write(rest)
        return ""

    def _registrations(self) -> bytes:
        """Every registration as the watchdog reads it: the lineage mark first, which alone
        finds every process that kept its environment."""
        lines = [f"i {self._instance}\n"] if self._instance else []
        lines += [f"+g {pgid}\n" for pgid in sorted(self._groups)]
        lines += [f"+p {pid} {start}\n" for pid, start in sorted(self._processes.items())]
        return "".join(lines).encode()

    def _send(self, line: str) -> None:
        self._write(line.encode())

    def _write(self, data: bytes) -> None:
        pipe = self._pipe
        if pipe is None:
            return
        with contextlib.suppress(OSError):  # a lost watchdog: check() replaces it
            while data:
                data = data[os.write(pipe, data) :]

    def _close_pipe(self) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            with contextlib.suppress(OSError):
                os.close(pipe)


def _preload(pipe: int, data: bytes) -> bytes:
    """Write what fits into an empty pipe nobody reads yet; returns the rest."""
    if not data:
        return data
    os.set_blocking(pipe, False)
    try:
        return data[os.write(pipe, data) :]
    except BlockingIOError:
        return data
    finally:
        os.set_blocking(pipe, True)


def _count(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _describe(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"
