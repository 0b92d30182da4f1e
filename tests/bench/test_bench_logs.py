"""Log pipeline benchmarks: ingest rate with sanitize and redact, and memory per line."""

from __future__ import annotations

import gc
import json
import time
import tracemalloc

import pytest

from palyra_tui.models import LogStream
from palyra_tui.supervisor.logbuffer import LogStore
from palyra_tui.supervisor.logpump import LinePump
from palyra_tui.text import Redactor
from tests.bench.conftest import median, report

pytestmark = pytest.mark.bench

SECRETS = ("0123456789abcdef0123456789abcdef", "browser-token-fedcba9876543210")


def plain_lines(count: int) -> bytes:
    return b"".join(
        f"2026-11-21T10:00:{index % 60:02d}.{index % 1000:03d}Z INFO worker::http: handled "
        f"request {index:07d} path=/v1/items/abc status=200 latency_ms={index % 97:02d}\n".encode()
        for index in range(count)
    )


def json_lines(count: int) -> bytes:
    return b"".join(
        json.dumps(
            {
                "timestamp": "2026-11-21T10:00:00.000000Z",
                "level": "INFO",
                "fields": {"message": "request handled", "status": 200, "run": index},
                "target": "palyra_daemon::gateway",
            }
        ).encode()
        + b"\n"
        for index in range(count)
    )


def ingest_rate(data: bytes, count: int, repeats: int = 5) -> tuple[float, int]:
    rates = []
    average = len(data) // count
    for _ in range(repeats):
        store = LogStore(10_000)
        pump = LinePump(store.add_service("svc"), LogStream.STDOUT, Redactor(SECRETS), time.time)
        started = time.process_time()
        for offset in range(0, len(data), 65536):
            pump.feed(data[offset : offset + 65536])
        pump.finish()
        elapsed = time.process_time() - started
        assert store.counters("svc").total == count
        rates.append(count / elapsed)
    return median(rates), average


def mixed_lines(count: int) -> bytes:
    """A gateway-like mix: token counts, colours, URLs and plain lines."""
    shapes = (
        "2026-11-21T10:00:00Z INFO provider: turn done prompt_tokens={i} max_tokens=4096 ok\n",
        "\x1b[32m2026-11-21T10:00:00Z\x1b[0m \x1b[1mINFO\x1b[0m http: GET /v1/items/{i} 200\n",
        "2026-11-21T10:00:00Z INFO fetch: GET https://api.example.test/v1/items?page={i} 200\n",
        "2026-11-21T10:00:00Z INFO worker::http: handled request {i:07d} status=200 ms=3\n",
    )
    return b"".join(shapes[i % 4].format(i=i).encode() for i in range(count))


@pytest.mark.parametrize("shape", ["plain", "json", "mixed"])
def test_ingest_lines_per_second(shape: str) -> None:
    count = 200_000
    makers = {"plain": plain_lines, "json": json_lines, "mixed": mixed_lines}
    data = makers[shape](count)
    rate, average = ingest_rate(data, count)
    report(
        f"log_ingest_{shape}",
        lines=count,
        avg_line_bytes=average,
        lines_per_second_one_core=round(rate),
    )


def test_memory_per_ten_thousand_lines() -> None:
    count = 10_000
    data = b"".join(
        f"2026-11-21T10:00:00Z INFO worker: handled request {index:08d} "
        f"path=/v1/items/abcdef status=200 latency_ms=17 user=ops ok\n".encode()
        for index in range(count)
    )
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    store = LogStore(count)
    pump = LinePump(store.add_service("svc"), LogStream.STDOUT, Redactor(), time.time)
    for offset in range(0, len(data), 65536):
        pump.feed(data[offset : offset + 65536])
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert store.counters("svc").retained == count
    report(
        "log_memory_per_10k_lines",
        avg_line_bytes=len(data) // count,
        mib=round(held / (1024 * 1024), 3),
    )
