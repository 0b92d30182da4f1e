"""``palyra-tui supervise --logs`` under a flood: lines per second reaching stdout, and losses.

A service prints 200,000 lines as fast as it can.  Stdout goes to a file (followed
the way ``tail -f`` does) or to a pipe drained by a reader that only looks for
the last line.  The rate is the 200,000 lines over the time from the first line
the supervisor read to the moment the last one reached the reader.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from tests.bench.conftest import median, report
from tests.conftest import child
from tests.integration.test_supervise_command import toml_list, write_config

pytestmark = pytest.mark.bench

COUNT = 200_000
ROUNDS = 5
LAST = f'"line {COUNT - 1} of the flood'.encode()


def follow_pipe(stream: IO[bytes], chunks: list[bytes]) -> float:
    """Read until the last line arrives; the time it did."""
    fd = stream.fileno()
    tail = b""
    while True:
        chunk = os.read(fd, 1 << 20)
        assert chunk, "stdout ended before the last line"
        chunks.append(chunk)
        if LAST in tail + chunk:
            return time.time()
        tail = chunk[-100:]


def follow_file(path: Path, chunks: list[bytes], deadline: float) -> float:
    """Read the growing file until the last line is in it; the time it was."""
    tail = b""
    with path.open("rb") as handle:
        while time.monotonic() < deadline:
            chunk = handle.read(1 << 20)
            if not chunk:
                time.sleep(0.0005)
                continue
            chunks.append(chunk)
            if LAST in tail + chunk:
                return time.time()
            tail = chunk[-100:]
    raise AssertionError("the last line never reached the file")


def one_round(directory: Path, target: str) -> tuple[float, int, int, int]:
    """Lines per second, lines in gap records, lines missing without a gap, exit code."""
    directory.mkdir()
    config = write_config(
        directory, f"[services.flood]\ncommand = {toml_list(child('flood', str(COUNT)))}\n"
    )
    env = {**os.environ, "PALYRA_TUI_CONFIG": str(config)}
    command = [sys.executable, "-m", "palyra_tui", "supervise", "--logs"]
    chunks: list[bytes] = []
    out_path = directory / "out.jsonl"
    with out_path.open("wb") as out_file:
        process = subprocess.Popen(
            command,
            stdout=out_file if target == "file" else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            if target == "file":
                seen_at = follow_file(out_path, chunks, time.monotonic() + 300)
            else:
                assert process.stdout is not None
                seen_at = follow_pipe(process.stdout, chunks)
            process.send_signal(signal.SIGINT)
            rest, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    data = out_path.read_bytes() if target == "file" else b"".join(chunks) + rest
    records = [json.loads(line) for line in data.splitlines()]
    flood = [r for r in records if r["event"] == "log" and r["line"].startswith("line ")]
    dropped = sum(r["dropped"] for r in records if r["event"] == "gap")
    assert err.decode() == "" or dropped, err
    rate = COUNT / (seen_at - flood[0]["ts"])
    return rate, dropped, COUNT - len(flood) - dropped, process.returncode


@pytest.mark.parametrize("target", ["file", "pipe"])
def test_flood_through_supervise(tmp_path: Path, target: str) -> None:
    rates: list[float] = []
    dropped: list[int] = []
    missing: list[int] = []
    codes: list[int] = []
    for index in range(ROUNDS):
        rate, lost, unaccounted, code = one_round(tmp_path / f"round{index}", target)
        rates.append(rate)
        dropped.append(lost)
        missing.append(unaccounted)
        codes.append(code)
    report(
        f"supervise_logs_to_{target}",
        lines=COUNT,
        rounds=ROUNDS,
        lines_per_s_median=round(median(rates)),
        lines_per_s_min=round(min(rates)),
        dropped_total=sum(dropped),
        dropped_max=max(dropped),
        exit_codes=",".join(str(code) for code in codes),
    )
    assert missing == [0] * ROUNDS, "lines were lost without a gap record"
