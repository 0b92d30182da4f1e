"""psutil samples of the services' main processes.

psutil reads ``/proc`` with blocking system calls, so sampling runs in a worker
thread (``asyncio.to_thread``), never on an event loop.  A ``psutil.Process``
is kept per pid from the first sample on: ``cpu_percent`` needs the previous
reading, and holding the object (with its create time) guards against a reused
pid.
"""

from __future__ import annotations

import psutil

from palyra_tui.models import ProcessStats


class StatsSampler:
    """Samples CPU, RSS, threads and open file descriptors of given pids."""

    def __init__(self) -> None:
        self._processes: dict[int, psutil.Process] = {}

    def sample(self, pids: tuple[int, ...]) -> dict[int, ProcessStats]:
        """Blocking: one sample of each pid that still runs."""
        wanted = set(pids)
        for stale in set(self._processes) - wanted:
            del self._processes[stale]
        result: dict[int, ProcessStats] = {}
        for pid in pids:
            process = self._processes.get(pid)
            try:
                if process is None:
                    process = psutil.Process(pid)
                    self._processes[pid] = process
                with process.oneshot():
                    cpu = process.cpu_percent(None)
                    rss = process.memory_info().rss
                    threads = process.num_threads()
                    fds = process.num_fds()
            except (psutil.Error, OSError):
                self._processes.pop(pid, None)
                continue
            result[pid] = ProcessStats(
                cpu_percent=round(cpu, 1), rss_bytes=rss, threads=threads, open_files=fds
            )
        return result
