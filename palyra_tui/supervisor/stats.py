"""psutil samples of the services' main processes.

psutil reads ``/proc`` with blocking system calls, so sampling runs in a worker
thread (``asyncio.to_thread``), never on an event loop.  A ``psutil.Process``
is kept per pid from the first sample on: holding the object (with its create
time) guards against a reused pid.

CPU is the average over a sliding window of about five seconds, computed from
the process's cumulative CPU time.  The kernel counts CPU time in 10 ms ticks,
so a one-second reading of a quiet daemon jumps between 0.0 % and 1.0 % with
no change in what it does, and every attached screen repaints for it; over
five seconds the resolution is 0.2 %, and the figure moves only when the
average moves by more than that step, so a steady load reads steady.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from palyra_tui.models import ProcessStats

CPU_WINDOW = 5.0
"""Seconds of samples the CPU figure averages over."""
CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")
"""The unit the kernel counts CPU time in (10 ms almost everywhere)."""
ROUNDING = 0.05
"""How far the figure shown (one decimal) may be from what it stands for."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What one look at a process found: cumulative CPU seconds and the other figures."""

    cpu_seconds: float
    rss_bytes: int
    threads: int
    open_files: int


class ProcessReader:
    """Reads a pid through psutil, keeping one ``psutil.Process`` per pid."""

    def __init__(self) -> None:
        self._processes: dict[int, psutil.Process] = {}

    def forget(self, pids: set[int]) -> None:
        """Drop what is kept for pids that are no longer sampled."""
        for pid in pids:
            self._processes.pop(pid, None)

    def __call__(self, pid: int) -> Reading | None:
        """Blocking: one reading, or None when the process is gone."""
        process = self._processes.get(pid)
        try:
            if process is None:
                process = psutil.Process(pid)
                self._processes[pid] = process
            with process.oneshot():
                times = process.cpu_times()
                rss = process.memory_info().rss
                threads = process.num_threads()
                fds = process.num_fds()
        except (psutil.Error, OSError):
            self._processes.pop(pid, None)
            return None
        return Reading(times.user + times.system, rss, threads, fds)


class CpuWindow:
    """CPU use of one process over the last ``window`` seconds of readings.

    The figure moves only when the average moved by more than one clock tick over
    the window (0.2 % at five seconds) from it: a quiet daemon's CPU time arrives a
    tick now and then, and each tick entering or leaving the window would otherwise
    change the figure as often as one-second readings did.  What is shown is never
    further than that one step (and its rounding) from the average.
    """

    def __init__(self, window: float = CPU_WINDOW, tick: float = CLOCK_TICK) -> None:
        self.window = window
        self.tick = tick
        self._readings: deque[tuple[float, float]] = deque()
        self._shown: float | None = None

    def add(self, at: float, cpu_seconds: float) -> float:
        """Record the cumulative CPU time read at monotonic time ``at``; returns the
        percentage of one core used over the window (0.0 until there are two readings)."""
        readings = self._readings
        if readings and (at < readings[-1][0] or cpu_seconds < readings[-1][1]):
            readings.clear()  # not the same process, or a clock gone wrong: start again
            self._shown = None
        readings.append((at, cpu_seconds))
        # Start the window at the reading that makes it closest to ``window`` long: one
        # sample taken late must not make the next window a whole interval longer.
        while len(readings) > 2 and abs(at - readings[1][0] - self.window) <= abs(
            at - readings[0][0] - self.window
        ):
            readings.popleft()
        first_at, first_cpu = readings[0]
        span = at - first_at
        if span <= 0:
            return 0.0 if self._shown is None else self._shown
        average = 100.0 * (cpu_seconds - first_cpu) / span
        step = 100.0 * self.tick / span + ROUNDING
        if self._shown is None or abs(average - self._shown) > step:
            self._shown = round(average, 1)
        return self._shown


class StatsSampler:
    """Samples CPU, RSS, threads and open file descriptors of given pids.

    ``read`` and ``now`` are for tests.  ``now`` is real monotonic time, not the
    supervisor's clock: it divides CPU seconds the kernel counted in real time.
    """

    def __init__(
        self,
        read: Callable[[int], Reading | None] | None = None,
        now: Callable[[], float] = time.monotonic,
        window: float = CPU_WINDOW,
    ) -> None:
        self._reader = ProcessReader()
        self._read: Callable[[int], Reading | None] = read if read is not None else self._reader
        self._now = now
        self._window = window
        self._cpu: dict[int, CpuWindow] = {}

    def sample(self, pids: tuple[int, ...]) -> dict[int, ProcessStats]:
        """Blocking: one sample of each pid that still runs."""
        stale = set(self._cpu) - set(pids)
        for pid in stale:
            del self._cpu[pid]
        self._reader.forget(stale)
        result: dict[int, ProcessStats] = {}
        for pid in pids:
            reading = self._read(pid)
            if reading is None:
                self._cpu.pop(pid, None)
                continue
            window = self._cpu.setdefault(pid, CpuWindow(self._window))
            cpu = window.add(self._now(), reading.cpu_seconds)
            result[pid] = ProcessStats(
                cpu_percent=cpu,
                rss_bytes=reading.rss_bytes,
                threads=reading.threads,
                open_files=reading.open_files,
            )
        return result
