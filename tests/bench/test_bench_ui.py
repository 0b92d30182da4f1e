"""Control-center benchmarks in a real pseudo-terminal.

Time to first frame and to first live health data, key → screen latency while
a service writes 10,000 lines/s, idle CPU, bytes/s written to the terminal
while tailing logs, and resident memory after a long run.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.bench.conftest import median, percentile, report
from tests.onboarded import mark_onboarded

pytestmark = pytest.mark.bench

FLOOD = (
    "import sys, time\n"
    "rate = int(sys.argv[1]); out = sys.stdout; n = 0; start = time.monotonic()\n"
    "while True:\n"
    "    due = int((time.monotonic() - start) * rate)\n"
    "    while n < due:\n"
    "        out.write(f'2026-11-21T10:00:00Z INFO flood: line {n} of the test\\n')\n"
    "        n += 1\n"
    "    out.flush(); time.sleep(0.005)\n"
)


class Pty:
    """A process on a pseudo-terminal, with every byte it writes recorded."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        size: tuple[int, int] = (120, 40),
        host_config: Path | None = None,
    ):
        self.host_config = host_config
        """The config of the runtime host this UI attached to: stopped on close."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.chunks.append((time.monotonic(), data))

    def output_since(self, moment: float) -> bytes:
        with self._lock:
            return b"".join(data for at, data in self.chunks if at >= moment)

    def first_time(self, needle: bytes, after: float = 0.0, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = b""
                for at, data in self.chunks:
                    if at < after:
                        continue
                    seen += data
                    if needle in seen:
                        return at
                    seen = seen[-len(needle) :]
            time.sleep(0.002)
        raise AssertionError(f"{needle!r} never appeared")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.process.poll() is None:
            self.send(b"\x11")
            time.sleep(0.5)
            self.send(b"y")
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.master)
        if self.host_config is not None:
            down = [sys.executable, "-m", "palyra_tui", "down", "--config", str(self.host_config)]
            subprocess.run(down, capture_output=True, timeout=120, check=False)


def _env() -> dict[str, str]:
    """The environment of a measured process: no palyra-tui settings, and bytecode cached
    as an installed palyra-tui has it (some sandboxes set PYTHONDONTWRITEBYTECODE, and
    every launch would then compile every module again)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PALYRA_") and key != "PYTHONDONTWRITEBYTECODE"
    }
    env["PALYRA_TUI_SECRET_BACKEND"] = "file"
    env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
    return env


def _config(tmp_path: Path, flood_rate: int) -> Path:
    sim = [sys.executable, "-m", "palyra_tui", "sim"]

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    text = f"""
state_root = "{tmp_path / "state"}"
[runtime]
admin_port = 0
grpc_port = 0
quic_port = 0
browserd_port = 0
browserd_grpc_port = 0
[services.gateway]
command = {toml_list([*sim, "gateway", "--port", "0", "--grpc-port", "0"])}
[services.browserd]
command = {toml_list([*sim, "browserd", "--port", "0", "--grpc-port", "0"])}
"""
    tmp_path.mkdir(parents=True, exist_ok=True)
    mark_onboarded(tmp_path / "state")
    if flood_rate:
        script = tmp_path / "flood.py"
        script.write_text(FLOOD)
        text += f"""
[services.flood]
command = {toml_list([sys.executable, str(script), str(flood_rate)])}
"""
    path = tmp_path / "tui.toml"
    path.write_text(text)
    return path


def _tui(tmp_path: Path, flood_rate: int = 0) -> Pty:
    config = _config(tmp_path, flood_rate)
    argv = [sys.executable, "-m", "palyra_tui", "--config", str(config)]
    return Pty(argv, _env(), host_config=config)


def test_time_to_first_frame_and_live_health(tmp_path: Path) -> None:
    frames, lives = [], []
    for round_index in range(5):
        term = _tui(tmp_path / str(round_index))
        try:
            frame = term.first_time(b"Health")
            live = term.first_time(b"HEALTHY")
            frames.append((frame - term.started) * 1000)
            lives.append((live - term.started) * 1000)
        finally:
            term.close()
    report(
        "tui_startup_ms",
        rounds=len(frames),
        first_frame_p50=round(median(frames)),
        first_live_health_p50=round(median(lives)),
        first_frame_max=round(max(frames)),
    )


def test_key_to_screen_latency_while_a_service_floods(tmp_path: Path) -> None:
    term = _tui(tmp_path, flood_rate=10_000)
    latencies: list[float] = []
    try:
        term.first_time(b"HEALTHY")
        time.sleep(2.0)
        for index in range(60):
            key, marker = (b"2", b"Next match") if index % 2 == 0 else (b"1", b"Hold restarts")
            sent = time.monotonic()
            term.send(key)
            shown = term.first_time(marker, after=sent, timeout=10)
            latencies.append((shown - sent) * 1000)
            time.sleep(0.15)
    finally:
        term.close()
    report(
        "key_to_screen_ms_under_10k_lines_per_s",
        presses=len(latencies),
        p50=round(median(latencies), 2),
        p99=round(percentile(latencies, 0.99), 2),
    )


def test_idle_cpu_and_tail_bandwidth(tmp_path: Path) -> None:
    term = _tui(tmp_path, flood_rate=10_000)
    try:
        term.first_time(b"HEALTHY")
        time.sleep(3.0)
        process = psutil.Process(term.process.pid)
        before = process.cpu_times()
        started = time.monotonic()
        time.sleep(20)
        after = process.cpu_times()
        elapsed = time.monotonic() - started
        health_cpu = (after.user + after.system - before.user - before.system) / elapsed
        term.send(b"2")
        time.sleep(2.0)
        mark = time.monotonic()
        time.sleep(10)
        tail_bytes = len(term.output_since(mark))
    finally:
        term.close()
    report(
        "tui_cpu_and_bandwidth",
        cpu_percent_health_screen_with_flood_elsewhere=round(100 * health_cpu, 2),
        tail_bytes_per_second_10k_lines=round(tail_bytes / 10),
    )


def test_idle_cpu_with_nothing_changing(tmp_path: Path) -> None:
    """Measured once uptimes show minutes: the first minute counts seconds on purpose."""
    term = _tui(tmp_path)
    try:
        term.first_time(b"HEALTHY")
        time.sleep(62.0)
        process = psutil.Process(term.process.pid)
        before = process.cpu_times()
        started = time.monotonic()
        mark = time.monotonic()
        time.sleep(30)
        after = process.cpu_times()
        elapsed = time.monotonic() - started
        written = len(term.output_since(mark))
    finally:
        term.close()
    report(
        "tui_idle",
        cpu_percent=round(
            100 * (after.user + after.system - before.user - before.system) / elapsed, 2
        ),
        bytes_per_second=round(written / elapsed),
    )


@pytest.mark.timeout(7200)
def test_resident_memory_after_a_long_run(tmp_path: Path) -> None:
    """RSS after one minute and after the whole run: growth, not size, is the figure to watch."""
    minutes = float(os.environ.get("PALYRA_BENCH_MINUTES", "10"))
    term = _tui(tmp_path, flood_rate=1_000)
    try:
        term.first_time(b"HEALTHY")
        term.send(b"3")
        time.sleep(1.0)
        term.send(b"\x0e")
        time.sleep(1.0)
        term.send(b"hello from the memory benchmark\r")
        time.sleep(2.0)
        term.send(b"\x1b")
        time.sleep(0.5)
        term.send(b"2")
        process = psutil.Process(term.process.pid)
        time.sleep(min(60.0, minutes * 60))
        early = process.memory_info().rss
        time.sleep(max(0.0, minutes * 60 - 60))
        rss = process.memory_info().rss
    finally:
        term.close()
    report(
        "tui_rss_after_run",
        minutes=minutes,
        rss_mb_after_1_min=round(early / 1_000_000, 1),
        rss_mb=round(rss / 1_000_000, 1),
    )
