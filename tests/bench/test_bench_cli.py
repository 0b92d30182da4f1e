"""The scripting commands: ``status --json`` from exec to exit, ``logs -f --json`` to a pipe.

Both run against a real ``palyra-tui host`` over the reference daemons
(``tests/bench/host_harness.py``), as a monitor or a log shipper would.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.bench.conftest import median, percentile, report
from tests.bench.host_harness import (
    FLOOD_BUDGETS,
    FLOOD_LINES,
    FLOOD_RUNS,
    Host,
    cpu_seconds,
    flood_services,
    running_host,
)
from tests.bench.test_bench_ui import _env

pytestmark = pytest.mark.bench

STATUS_ROUNDS = 30
PALYRA_TUI = Path(sys.executable).with_name("palyra-tui")
FLOOD = re.compile(r"line (\d+) of the flood")


def _exec_ms(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
    )
    return (time.perf_counter() - started) * 1000


def test_status_json_exec_to_exit(tmp_path: Path) -> None:
    """``palyra-tui status --json`` against a running host, exec to exit, 30 rounds.

    Interleaved in each round, for the share that is not palyra-tui's own: the bare
    interpreter (``python -c pass``) and the interpreter importing what the host
    socket's transport needs whatever the command (``import asyncio, grpc``).  The
    first run writes palyra-tui's bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped), so
    the rounds measure an installed palyra-tui, not one compiled at every start.
    """
    with running_host(tmp_path, {}) as host:
        env = {**_env(), "PALYRA_TUI_CONFIG": str(host.config)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        status = [str(PALYRA_TUI), "status", "--json"]
        first = subprocess.run(status, capture_output=True, env=env, check=False)
        document = json.loads(first.stdout)
        assert document["host"]["pid"] == host.process.pid, first.stderr
        commands = {
            "status": status,
            "bare_interpreter": [sys.executable, "-c", "pass"],
            "asyncio_grpc_import": [sys.executable, "-c", "import asyncio, grpc"],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(STATUS_ROUNDS):
            for name, command in commands.items():
                samples[name].append(_exec_ms(command, env))
    status_ms = median(samples["status"])
    bare_ms = median(samples["bare_interpreter"])
    floor_ms = median(samples["asyncio_grpc_import"])
    report(
        "cli_status_json_exec_to_exit_ms",
        rounds=STATUS_ROUNDS,
        status_p50=round(status_ms, 1),
        status_p90=round(percentile(samples["status"], 0.9), 1),
        status_min=round(min(samples["status"]), 1),
        bare_interpreter_p50=round(bare_ms, 1),
        asyncio_grpc_import_p50=round(floor_ms, 1),
        palyra_tui_share_p50=round(status_ms - floor_ms, 1),
        load_average=round(os.getloadavg()[0], 2),
    )


class PipeReader:
    """Drains a pipe in a thread, noting when the first and the last flood line arrived."""

    def __init__(self, fd: int, last: bytes) -> None:
        self.chunks: list[bytes] = []
        self.first_at = 0.0
        self.last_at = 0.0
        self._fd = fd
        self._last = last
        self.ready = threading.Event()
        """Set once anything arrived: the command follows (it printed the backlog)."""
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tail = b""
        while True:
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                break
            now = time.monotonic()
            self.ready.set()
            if not self.first_at and b"of the flood" in chunk:
                self.first_at = now
            self.chunks.append(chunk)
            if self._last in tail + chunk:
                self.last_at = now
                self.done.set()
            tail = chunk[-200:]
        self.done.set()

    def join(self) -> None:
        self._thread.join(30)


@contextlib.contextmanager
def follow(host: Host, service: str) -> Iterator[tuple[subprocess.Popen[bytes], PipeReader]]:
    read, write = os.pipe()
    command = [str(PALYRA_TUI), "logs", service, "gateway", "-f", "--json"]
    command += ["--config", str(host.config)]
    process = subprocess.Popen(command, stdout=write, stderr=subprocess.PIPE, env=_env())
    os.close(write)
    reader = PipeReader(read, f"line {FLOOD_LINES - 1} of the flood".encode())
    try:
        yield process, reader
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join()
        os.close(read)
        assert process.stderr is not None
        process.stderr.close()


def flood_run(host: Host, name: str) -> dict[str, float]:
    with follow(host, name) as (process, reader):
        ps = psutil.Process(process.pid)
        assert reader.ready.wait(60), "the gateway's backlog never arrived"
        client_before = cpu_seconds(ps)
        host_before = cpu_seconds(host.ps)
        started = time.monotonic()
        subprocess.run(
            [str(PALYRA_TUI), "start", name, "--no-wait", "--config", str(host.config)],
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        assert reader.done.wait(120), "the last line never arrived"
        client_cpu = cpu_seconds(ps) - client_before
        host_cpu = cpu_seconds(host.ps) - host_before
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    assert code == 0
    records = [json.loads(line) for line in b"".join(reader.chunks).splitlines()]
    floods = [r for r in records if r["event"] == "log" and "of the flood" in r["line"]]
    gaps = [r for r in records if r["event"] == "gap"]
    numbers = [int(match.group(1)) for r in floods if (match := FLOOD.search(r["line"]))]
    dropped = sum(r["dropped"] for r in gaps)
    assert len(numbers) == len(floods)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    window = reader.last_at - reader.first_at
    return {
        "lines": len(floods),
        "gaps": len(gaps),
        "dropped": dropped,
        "lines_per_s": len(floods) / window,
        "lines_per_s_from_start": len(floods) / (reader.last_at - started),
        "client_us_per_line": client_cpu / len(floods) * 1e6,
        "host_us_per_line": host_cpu / len(floods) * 1e6,
    }


def test_logs_follow_json_to_a_pipe(tmp_path: Path) -> None:
    """``logs SERVICE -f --json`` to a pipe while the service writes 200,000 lines as fast
    as it can; the bench reads the pipe as fast as it can.

    ``whole``: a ring that holds every line, so none may be lost; ``default``: 10,000
    lines a service, where lines the command could not take in time come back as gap
    records (lines + dropped counts every flood line).
    """
    services = flood_services()
    budgets = FLOOD_BUDGETS
    for label, settings in budgets.items():
        with running_host(tmp_path / label, services, **settings) as host:
            runs = [flood_run(host, name) for name in services]
        for run in runs:
            assert run["lines"] + run["dropped"] == FLOOD_LINES, run
        if label == "whole":
            assert all(run["dropped"] == 0 and run["gaps"] == 0 for run in runs), runs
        report(
            f"cli_logs_follow_json_{label}_ring",
            produced=FLOOD_LINES,
            runs=FLOOD_RUNS,
            lines_median=round(median([run["lines"] for run in runs])),
            gaps_median=round(median([run["gaps"] for run in runs])),
            dropped_median=round(median([run["dropped"] for run in runs])),
            lines_per_s_median=round(median([run["lines_per_s"] for run in runs])),
            lines_per_s_min=round(min(run["lines_per_s"] for run in runs)),
            lines_per_s_from_start_median=round(
                median([run["lines_per_s_from_start"] for run in runs])
            ),
            client_cpu_us_per_line=round(median([run["client_us_per_line"] for run in runs]), 2),
            host_cpu_us_per_line=round(median([run["host_us_per_line"] for run in runs]), 2),
            load_average=round(os.getloadavg()[0], 2),
        )
