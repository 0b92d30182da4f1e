"""Supervisor benchmarks: kill → state change latency, and idle CPU with 20 services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from palyra_tui.config import Config
from palyra_tui.models import ServiceState
from palyra_tui.supervisor import Supervisor
from tests.bench.conftest import median, percentile, report
from tests.conftest import child, next_state

pytestmark = pytest.mark.bench


async def test_kill_to_state_change_latency(
    config_factory: Callable[..., Config], open_supervisor: Callable[..., Supervisor]
) -> None:
    rounds = 200
    config = config_factory({"victim": {"command": child("hang"), "restart": "never"}})
    supervisor = open_supervisor(config, tick_interval=3600)
    events = supervisor.subscribe_events()
    latencies: list[float] = []
    for _ in range(rounds):
        await supervisor.start("victim")
        started = await next_state(events, "victim", ServiceState.STARTING)
        assert started.pid is not None
        killed_at = time.time()
        os.kill(started.pid, signal.SIGKILL)
        exited = await next_state(events, "victim", ServiceState.EXITED)
        latencies.append((exited.ts - killed_at) * 1000.0)
    report(
        "kill_to_state_change_ms",
        rounds=rounds,
        p50=round(median(latencies), 3),
        p99=round(percentile(latencies, 0.99), 3),
        max=round(max(latencies), 3),
    )
    assert len(latencies) == rounds


HEALTH_SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536
    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


async def test_cpu_with_twenty_idle_services(
    config_factory: Callable[..., Config],
    open_supervisor: Callable[..., Supervisor],
    tmp_path: Path,
) -> None:
    seconds = 20.0
    server = subprocess.Popen(
        [sys.executable, "-c", HEALTH_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        services = {
            f"idle{index:02d}": {
                "command": ["sleep", "3600"],
                "health_url": f"http://127.0.0.1:{port}/healthz",
                "health_interval": 0.5,
            }
            for index in range(20)
        }
        config = config_factory(services)
        supervisor = open_supervisor(config, tick_interval=0.5)
        await supervisor.start_all()
        import asyncio

        await asyncio.sleep(2.0)
        snapshot = supervisor.snapshot()
        assert all(s.state is ServiceState.RUNNING for s in snapshot.services if s.enabled)
        cpu_before = time.process_time()
        wall_before = time.monotonic()
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
        healthy = sum(
            1 for s in supervisor.snapshot().services if s.health.state.value == "healthy"
        )
        report(
            "idle_cpu_20_services",
            services=20,
            seconds=round(wall, 1),
            cpu_percent_of_one_core=round(100.0 * cpu / wall, 3),
            healthy=healthy,
        )
        assert healthy == 20
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
