"""The control center side by side with a minimal two-screen Textual app, in one run.

Both run on a 120×40 pseudo-terminal; each figure is reported for both and as
a ratio, which holds on a noisy machine where the absolute numbers do not.
Ours runs the reference daemons plus a service writing 10,000 lines/s while
keys are timed; the minimal app runs nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from tests.bench.conftest import median, percentile, report
from tests.bench.test_bench_ui import Pty, _config, _env, pytestmark

__all__ = ["pytestmark"]

MINIMAL = Path(__file__).with_name("minimal_app.py")
ROUNDS = 9
PRESSES = 60


def _minimal() -> Pty:
    return Pty([sys.executable, str(MINIMAL)], _env())


def _ours(tmp_path: Path, flood_rate: int = 0) -> Pty:
    config = _config(tmp_path, flood_rate)
    argv = [sys.executable, "-m", "palyra_tui", "--config", str(config)]
    return Pty(argv, _env(), host_config=config)


def _first_frame_ms(term: Pty) -> float:
    try:
        return (term.first_time(b"Health") - term.started) * 1000
    finally:
        term.close()


def _key_to_screen_ms(term: Pty) -> list[float]:
    latencies: list[float] = []
    for index in range(PRESSES):
        key, marker = (b"2", b"Next match") if index % 2 == 0 else (b"1", b"Hold restarts")
        sent = time.monotonic()
        term.send(key)
        latencies.append((term.first_time(marker, after=sent, timeout=10) - sent) * 1000)
        time.sleep(0.15)
    return latencies


def _cpu_percent(term: Pty, seconds: float) -> float:
    process = psutil.Process(term.process.pid)
    before = process.cpu_times()
    started = time.monotonic()
    time.sleep(seconds)
    after = process.cpu_times()
    used = after.user + after.system - before.user - before.system
    return 100 * used / (time.monotonic() - started)


def test_first_frame_side_by_side(tmp_path: Path) -> None:
    ours: list[float] = []
    minimal: list[float] = []
    for round_index in range(ROUNDS):
        minimal.append(_first_frame_ms(_minimal()))
        ours.append(_first_frame_ms(_ours(tmp_path / str(round_index))))
    report(
        "first_frame_side_by_side_ms",
        rounds=ROUNDS,
        ours_p50=round(median(ours)),
        minimal_p50=round(median(minimal)),
        ratio=round(median(ours) / median(minimal), 2),
    )


def test_key_to_screen_and_idle_cpu_side_by_side(tmp_path: Path) -> None:
    term = _minimal()
    try:
        term.first_time(b"Health")
        time.sleep(1.0)
        minimal_keys = _key_to_screen_ms(term)
        minimal_cpu = _cpu_percent(term, 15)
    finally:
        term.close()
    term = _ours(tmp_path / "flood", flood_rate=10_000)
    try:
        term.first_time(b"HEALTHY")
        time.sleep(2.0)
        flood_keys = _key_to_screen_ms(term)
    finally:
        term.close()
    term = _ours(tmp_path / "idle")
    try:
        term.first_time(b"HEALTHY")
        time.sleep(2.0)
        idle_keys = _key_to_screen_ms(term)
        time.sleep(1.0)
        idle_cpu = _cpu_percent(term, 15)
    finally:
        term.close()
    report(
        "key_to_screen_side_by_side_ms",
        presses=PRESSES,
        ours_p50_flood_10k=round(median(flood_keys), 1),
        ours_p99_flood_10k=round(percentile(flood_keys, 0.99), 1),
        ours_p50_idle=round(median(idle_keys), 1),
        ours_p99_idle=round(percentile(idle_keys, 0.99), 1),
        minimal_p50_idle=round(median(minimal_keys), 1),
        minimal_p99_idle=round(percentile(minimal_keys, 0.99), 1),
    )
    report(
        "idle_cpu_side_by_side_percent",
        ours=round(idle_cpu, 2),
        minimal=round(minimal_cpu, 2),
    )
