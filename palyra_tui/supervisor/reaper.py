"""A watchdog process that kills every supervised process group if palyra-tui dies.

``setpriv --pdeathsig`` only reaches the direct child.  The reaper is a tiny
Python process (no imports from this package, started with ``-I -S``) in its
own session that reads ``+PGID`` / ``-PGID`` lines on stdin.  When stdin reaches
end of file, which the kernel guarantees the moment palyra-tui exits for any
reason, SIGKILL included, it sends SIGKILL to every group still registered.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

_PROGRAM = r"""
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
groups = set()
stdin = sys.stdin.buffer
for raw in stdin:
    line = raw.strip()
    if line[:1] == b"+":
        groups.add(int(line[1:]))
    elif line[:1] == b"-":
        groups.discard(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class Reaper:
    """The supervisor's side of the watchdog."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the watchdog (idempotent); failure only loses the safety net."""
        if self._process is not None:
            return
        with contextlib.suppress(OSError):
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _PROGRAM],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The watchdog's pid, while it runs."""
        return self._process.pid if self._process is not None else None

    def watch(self, pgid: int) -> None:
        """Kill group ``pgid`` if palyra-tui dies before :meth:`forget`."""
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        """Group ``pgid`` has ended; stop watching it."""
        self._send(f"-{pgid}\n")

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
