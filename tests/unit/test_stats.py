"""CPU figures of the stats sampler: averaged over a window, steady for a steady load."""

from __future__ import annotations

import subprocess
import sys

from palyra_tui.supervisor.stats import CpuWindow, Reading, StatsSampler
from tests.conftest import block_until

TICK = 0.01


class FakeProcess:
    """A process whose CPU time grows by whole kernel ticks, read once a second."""

    def __init__(self, ticks_per_second: list[int]) -> None:
        self.ticks = ticks_per_second
        self.second = 0
        self.cpu = 0.0

    jitter = 0.0
    """Seconds every other sample is late by (a worker thread is scheduled late)."""

    def now(self) -> float:
        return self.second + (self.jitter if self.second % 2 else 0.0)

    def read(self, _pid: int) -> Reading:
        return Reading(self.cpu, 10_000_000, 4, 12)

    def step(self) -> None:
        self.cpu += self.ticks[self.second % len(self.ticks)] * TICK
        self.second += 1


def figures(process: FakeProcess, seconds: int) -> list[float]:
    sampler = StatsSampler(read=process.read, now=process.now)
    shown = []
    for _ in range(seconds):
        shown.append(sampler.sample((42,))[42].cpu_percent)
        process.step()
    return shown


def test_a_quiet_daemon_reads_one_steady_figure() -> None:
    """A tick every other second read 0.0 % and 1.0 % in turn, one second each."""
    shown = figures(FakeProcess([0, 1]), 60)
    settled = shown[6:]
    assert set(settled) == {settled[0]}, shown
    assert abs(settled[0] - 0.5) <= 0.2


def test_irregular_ticks_of_a_steady_load_do_not_move_the_figure() -> None:
    """Two or three ticks in any five seconds (0.4 % to 0.6 %) read as one figure."""
    shown = figures(FakeProcess([0, 0, 0, 1, 1, 0, 0, 1, 1, 1]), 60)
    settled = shown[6:]
    assert set(settled) == {settled[0]}, shown


def test_samples_taken_late_do_not_move_the_figure() -> None:
    """The window then spans five to six seconds, and the same ticks average differently."""
    process = FakeProcess([0, 0, 0, 1, 1, 0, 0, 1, 1, 1])
    process.jitter = 0.4
    shown = figures(process, 60)
    settled = shown[7:]
    assert set(settled) == {settled[0]}, shown


def test_a_change_of_load_shows_within_the_window() -> None:
    process = FakeProcess([0])
    sampler = StatsSampler(read=process.read, now=process.now)
    for _ in range(10):
        sampler.sample((42,))
        process.step()
    assert sampler.sample((42,))[42].cpu_percent == 0.0
    process.ticks = [50]  # half a core from now on
    shown = []
    for _ in range(6):
        process.step()
        shown.append(sampler.sample((42,))[42].cpu_percent)
    assert shown[0] > 0.0
    assert shown[-1] == 50.0


def test_the_window_averages_about_five_seconds() -> None:
    window = CpuWindow(window=5.0, tick=TICK)
    for second in range(10):
        window.add(float(second), 0.0)
    # One second of a full core, after nine idle ones: 1 s over the last 5 s.
    assert window.add(10.0, 1.0) == 20.0


def test_a_reused_pid_starts_a_new_window() -> None:
    window = CpuWindow(window=5.0, tick=TICK)
    window.add(0.0, 100.0)
    assert window.add(1.0, 100.5) == 50.0
    assert window.add(2.0, 0.1) == 0.0, "less CPU time than before: another process"


def test_a_busy_child_reads_near_a_full_core() -> None:
    """The real reader: cumulative CPU time of a process that spins."""
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        sampler = StatsSampler()
        sampler.sample((spin.pid,))
        readings: list[float] = []

        def sampled_enough() -> bool:
            readings.append(sampler.sample((spin.pid,))[spin.pid].cpu_percent)
            return len(readings) >= 20

        assert block_until(sampled_enough, timeout=60)
        assert readings[-1] > 20.0, readings  # two shared cores: well above idle
    finally:
        spin.kill()
        spin.wait()
    assert sampler.sample((spin.pid,)) == {}, "a process that ended has no figures"
