"""Runtime host transport: the codec on log lines, and log lines through the socket."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from palyra_tui.host.codec import codec_for
from palyra_tui.host.transport import HostClient
from palyra_tui.models import LogLevel, LogLine, LogStream
from tests.bench.conftest import median, report

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Tail:
    """The toy request: stream ``count`` log lines."""

    count: int


def sample_lines(count: int) -> tuple[LogLine, ...]:
    """Lines shaped like palyrad's: a message, a target, two or three fields."""
    return tuple(
        LogLine(
            seq=index,
            ts=1_780_000_000.0 + index / 1000,
            service="gateway",
            stream=LogStream.STDOUT,
            message=f"run stream event delivered to the client (chunk {index})",
            level=LogLevel.INFO if index % 10 else LogLevel.WARN,
            target="palyrad::gateway::run_stream",
            fields=(("run_id", "01J8ZK3Q4RTS6V7W8X9Y0ABCDE"), ("seq", str(index))),
        )
        for index in range(count)
    )


def test_codec_log_line_batches() -> None:
    lines = sample_lines(1_000)
    codec = codec_for(tuple[LogLine, ...])
    data = codec.encode(lines)
    assert codec.decode(data) == lines
    encode_s, decode_s = [], []
    for _ in range(30):
        started = time.process_time()
        data = codec.encode(lines)
        encoded = time.process_time()
        codec.decode(data)
        encode_s.append(encoded - started)
        decode_s.append(time.process_time() - encoded)
    report(
        "host_codec_1000_log_lines",
        encode_lines_per_s=round(1_000 / median(encode_s)),
        decode_lines_per_s=round(1_000 / median(decode_s)),
        round_trip_lines_per_s=round(1_000 / (median(encode_s) + median(decode_s))),
        bytes_per_line=round(len(data) / 1_000),
    )


SERVER = r"""
import asyncio, sys
from pathlib import Path
from palyra_tui.host.transport import HostServer
from palyra_tui.models import LogLine
from tests.bench.test_bench_host import Tail, sample_lines

LINES = sample_lines(10_000)

async def tail(request):
    for index in range(request.count):
        yield LINES[index % 10_000]

async def main():
    server = HostServer(Path(sys.argv[1]))
    server.add_stream("Tail", Tail, LogLine, tail)
    await server.start()
    print(server.paths.socket, flush=True)
    await server.wait_stopped()

asyncio.run(main())
"""


@contextlib.contextmanager
def host_process(state_root: Path) -> Iterator[tuple[Path, psutil.Process]]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(state_root)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        yield Path(process.stdout.readline().strip()), psutil.Process(process.pid)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def test_log_lines_through_the_socket(tmp_path: Path) -> None:
    """One client tails log lines from a host in another process, one line per item.

    The host's handler yields single lines; the transport batches what is
    ready.  The client reads them one by one (``stream``) and as the batches
    that arrived (``stream_batches``, what a log view wants).  The wall rate
    depends on the two processes getting a core each; the CPU each side spends
    per line says what one core sustains.
    """
    count = 200_000
    figures: dict[str, dict[str, list[float]]] = {
        mode: {"rate": [], "client": [], "host": []} for mode in ("items", "batches")
    }
    with host_process(tmp_path / "state") as (socket_path, host):
        async with HostClient(socket_path) as client:
            for _ in range(5):
                for mode, seen in figures.items():
                    started, cpu_started = time.perf_counter(), time.process_time()
                    host_started = cpu_seconds(host)
                    received = await tail(client, count, batches=mode == "batches")
                    assert received == count
                    seen["rate"].append(count / (time.perf_counter() - started))
                    seen["client"].append((time.process_time() - cpu_started) / count * 1e6)
                    seen["host"].append((cpu_seconds(host) - host_started) / count * 1e6)
    for mode, seen in figures.items():
        client_us, host_us = median(seen["client"]), median(seen["host"])
        report(
            f"host_socket_log_lines_{mode}",
            lines=count,
            runs=5,
            lines_per_s_median=round(median(seen["rate"])),
            client_cpu_us_per_line=round(client_us, 2),
            host_cpu_us_per_line=round(host_us, 2),
            lines_per_cpu_s_slower_side=round(1e6 / max(client_us, host_us)),
        )


async def tail(client: HostClient, count: int, *, batches: bool) -> int:
    """Read ``count`` lines, checking their order; how many arrived."""
    received = 0
    if batches:
        async for batch in client.stream_batches("Tail", Tail(count), LogLine):
            assert batch[-1].seq == (received + len(batch) - 1) % 10_000
            received += len(batch)
        return received
    async for line in client.stream("Tail", Tail(count), LogLine):
        assert line.seq == received % 10_000
        received += 1
    return received
