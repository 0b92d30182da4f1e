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
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

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


class Reaper:
    """The supervisor's side of the watchdog."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, instance: str = "") -> None:
        """Start the watchdog (idempotent); failure only loses the safety net."""
        if self._process is not None:
            return
        with contextlib.suppress(OSError):
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _PROGRAM, MARK_VAR],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,
            )
        if instance:
            self._send(f"i {instance}\n")

    @property
    def pid(self) -> int | None:
        """The watchdog's pid, while it runs."""
        return self._process.pid if self._process is not None else None

    def watch(self, pgid: int) -> None:
        """Kill group ``pgid`` if palyra-tui dies before :meth:`forget`."""
        self._send(f"+g {pgid}\n")

    def forget(self, pgid: int) -> None:
        """Group ``pgid`` has ended; stop watching it."""
        self._send(f"-g {pgid}\n")

    def watch_processes(self, processes: list[Tracked]) -> None:
        """Kill these descendants too if palyra-tui dies."""
        if processes:
            self._send("".join(f"+p {p.pid} {p.start}\n" for p in processes))

    def forget_processes(self, processes: set[Tracked]) -> None:
        """These descendants have ended."""
        if processes:
            self._send("".join(f"-p {p.pid}\n" for p in processes))

    def close(self) -> None:
        """Let the watchdog exit (it kills whatever is still registered)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2)

    def _send(self, line: str) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            os.write(process.stdin.fileno(), line.encode())
        except OSError:
            self._process = None
