"""Output capture, redaction, health and the built-in gateway, with real processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from palyra_tui.config import Config
from palyra_tui.models import HealthState, LogLine, LogStream, ServiceState
from palyra_tui.supervisor import Supervisor
from palyra_tui.supervisor.logbuffer import MIB
from palyra_tui.text import MARK
from tests.conftest import CHILD_SCRIPT, child, eventually, make_config, next_state

OpenSupervisor = Callable[..., Supervisor]
ConfigFactory = Callable[..., Config]


async def collect(feed: object, predicate: Callable[[list[LogLine]], bool]) -> list[LogLine]:
    lines: list[LogLine] = []

    async def run() -> list[LogLine]:
        async for batch in feed:  # type: ignore[attr-defined]
            lines.extend(batch)
            if predicate(lines):
                return lines
        return lines

    return await asyncio.wait_for(run(), 20)


async def test_a_flood_is_captured_without_silent_loss(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    count = 50_000
    config = config_factory({"flood": {"command": child("flood", str(count))}}, log_lines=1000)
    supervisor = open_supervisor(config)
    feed = supervisor.subscribe_logs(["flood"])
    await supervisor.start("flood")

    def done(lines: list[LogLine]) -> bool:
        return any(line.text.startswith(f"line {count - 1} ") for line in lines)

    lines = await collect(feed, done)
    received = sum(1 for line in lines if line.stream is LogStream.STDOUT)
    gaps = sum(line.dropped for line in lines if line.is_gap)
    assert received + gaps == count
    await supervisor.tick()
    counters = supervisor.snapshot().get("flood").logs  # type: ignore[union-attr]
    assert counters.total >= count + 1
    assert counters.retained == 1000
    assert counters.evicted == counters.total - 1000
    numbers = [int(line.text.split()[1]) for line in lines if line.stream is LogStream.STDOUT]
    assert numbers == sorted(numbers)


async def test_a_slow_reader_gets_a_gap_record(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"flood": {"command": child("flood", "5000")}}, log_lines=100)
    supervisor = open_supervisor(config)
    feed = supervisor.subscribe_logs(["flood"])
    await supervisor.start("flood")
    assert await eventually(lambda: supervisor.store.counters("flood").total >= 5001)
    batch = feed.read()
    assert batch[0].is_gap and batch[0].dropped >= 4900
    assert batch[-1].text.startswith("line 4999 ")
    feed.close()


async def test_a_buffered_subscription_keeps_lines_the_ring_could_not(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"flood": {"command": child("flood", "5000")}}, log_lines=100)
    supervisor = open_supervisor(config)
    whole = supervisor.subscribe_logs(["flood"], buffer=10_000)
    short = supervisor.subscribe_logs(["flood"], buffer=1_000)
    await supervisor.start("flood")
    assert await eventually(lambda: supervisor.store.counters("flood").total >= 5001)
    lines = whole.read()
    assert [line.seq for line in lines] == list(range(1, 5002)), "no gap, nothing missing"
    kept = short.read()
    gaps = [line for line in kept if line.is_gap]
    assert gaps and all(gap.service == "flood" for gap in gaps)
    assert sum(gap.dropped for gap in gaps) + len(kept) - len(gaps) == 5001
    whole.close()
    short.close()


async def test_a_flood_wakes_subscribers_before_the_batch_interval_ends(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    """Lines arriving faster than a ring turns over per interval must not wait for the timer."""
    config = config_factory({"flood": {"command": child("flood", "5000")}}, log_lines=1000)
    supervisor = open_supervisor(config, batch_interval=3600)
    feed = supervisor.subscribe_logs(["flood"])
    flood_seen = asyncio.Event()

    async def read() -> None:
        async for batch in feed:
            if any(line.stream is LogStream.STDOUT for line in batch):
                flood_seen.set()

    reader = asyncio.create_task(read())
    try:
        await supervisor.start("flood")
        assert await eventually(flood_seen.is_set), "the subscriber was not woken by the flood"
    finally:
        feed.close()
        await reader


async def test_a_200_kb_line_is_truncated_and_the_next_line_survives(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"wide": {"command": child("long-line", "200000")}})
    supervisor = open_supervisor(config)
    feed = supervisor.subscribe_logs(["wide"])
    await supervisor.start("wide")
    lines = await collect(feed, lambda got: any(line.text == "after" for line in got))
    cut = [line for line in lines if line.truncated]
    assert len(cut) == 1 and cut[0].text.endswith("[truncated]")
    assert len(cut[0].text) < 17 * 1024
    assert supervisor.snapshot().get("wide").logs.truncated == 1  # type: ignore[union-attr]


async def test_escapes_are_stripped_and_secrets_redacted(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    secret = "tok-9f8e7d6c5b4a39281706"
    config = config_factory({"noisy": {"command": child("escapes"), "env": {"API_TOKEN": secret}}})
    supervisor = open_supervisor(config)
    feed = supervisor.subscribe_logs(["noisy"])
    await supervisor.start("noisy")
    lines = await collect(
        feed,
        lambda got: (
            any(line.stream is LogStream.STDERR for line in got)
            and any("Authorization" in line.text for line in got)
        ),
    )
    texts = [line.text for line in lines]
    joined = "\n".join(texts)
    assert "\x1b" not in joined and "\x07" not in joined
    assert not any(0x80 <= ord(char) <= 0x9F for char in joined)
    assert secret not in joined
    assert "abcdef123456" not in joined
    assert f"key is {MARK} in the middle" in texts
    assert f"stderr {MARK}" in texts
    assert "clipboard" in texts and "red" in texts


async def test_secrets_of_our_own_environment_are_redacted_from_children(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    secret = "own-env-token-5a4b3c2d1e"
    config = config_factory({"noisy": {"command": child("escapes")}})
    supervisor = open_supervisor(config, environ={**os.environ, "API_TOKEN": secret})
    feed = supervisor.subscribe_logs(["noisy"])
    await supervisor.start("noisy")
    lines = await collect(feed, lambda got: any(line.stream is LogStream.STDERR for line in got))
    texts = [line.text for line in lines]
    assert f"stderr {MARK}" in texts
    assert secret not in "\n".join(texts)


async def test_wide_lines_from_several_services_stay_within_the_byte_budget(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    count = 400
    wide = ("wide0", "wide1")
    services = {name: {"command": child("flood-wide", str(count), "16384")} for name in wide}
    services["quiet"] = {"command": child("flood-wide", "30", "16384")}
    config = config_factory(services, log_mib=1, log_total_mib=2)
    supervisor = open_supervisor(config)
    for name in services:
        await supervisor.start(name)
    peak = 0

    def all_done() -> bool:
        nonlocal peak
        peak = max(peak, supervisor.store.bytes_held())
        return all(
            any(line.text == "done" for line in supervisor.tail(name, 1)) for name in services
        )

    assert await eventually(all_done)
    assert peak <= 2 * MIB
    for name in wide:
        counters = supervisor.store.counters(name)
        assert counters.retained_bytes <= MIB
        assert counters.evicted > 0
        kept = [line.text for line in supervisor.tail(name, 10_000)]
        numbers = [int(text.split()[1]) for text in kept if text.startswith("wide ")]
        assert numbers == list(range(count - len(numbers), count))
    quiet = supervisor.store.counters("quiet")
    assert quiet.evicted == 0, "the flooding services give up their lines, not the quiet one"
    assert quiet.retained == 30 + 2


async def test_health_probe_of_a_custom_service(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    port_file = tmp_path / "dump.json"
    server = (
        "import http.server,json,sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    protocol_version='HTTP/1.1'\n"
        "    def do_GET(self):\n"
        '        body=b\'{"status":"ok"}\'\n'
        "        self.send_response(200);self.send_header('Content-Length',str(len(body)))\n"
        "        self.end_headers();self.wfile.write(body)\n"
        "    def log_message(self,*a): pass\n"
        "s=http.server.HTTPServer(('127.0.0.1',int(sys.argv[1])),H)\n"
        "s.serve_forever()\n"
    )
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = config_factory(
        {
            "web": {
                "command": [sys.executable, "-c", server, str(port)],
                "health_url": f"http://127.0.0.1:{port}/healthz",
                "health_interval": 0.1,
            }
        }
    )
    del port_file
    supervisor = open_supervisor(config, tick_interval=0.05)
    await supervisor.start("web")
    assert await eventually(
        lambda: supervisor.snapshot().get("web").health.state is HealthState.HEALTHY  # type: ignore[union-attr]
    )
    health = supervisor.snapshot().get("web").health  # type: ignore[union-attr]
    assert health.latency_ms is not None and health.latency_ms >= 0
    await supervisor.stop("web")
    assert supervisor.snapshot().get("web").health.state is HealthState.NOT_CHECKED  # type: ignore[union-attr]


async def test_builtin_gateway_gets_palyrad_arguments_and_environment(
    tmp_path: Path, open_supervisor: OpenSupervisor
) -> None:
    dump = tmp_path / "gateway.json"
    wrapper = tmp_path / "fake-palyrad"
    wrapper.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{CHILD_SCRIPT}" http-health "{dump}" 200 "$@"\n'
    )
    wrapper.chmod(0o755)
    config = make_config(
        tmp_path,
        {"gateway": {"health_interval": 0.1}, "browserd": {"enabled": False}},
        builtins=True,
        runtime={"admin_port": 0, "grpc_port": 0, "quic_port": 0, "principal": "admin:ops"},
    )
    environ = {**os.environ, "PALYRA_DESKTOP_PALYRAD_BIN": str(wrapper)}
    supervisor = open_supervisor(config, environ=environ, tick_interval=0.05)
    events = supervisor.subscribe_events()
    await supervisor.start_all()
    await next_state(events, "gateway", ServiceState.STARTING)
    assert await eventually(
        lambda: supervisor.snapshot().get("gateway").health.state is HealthState.HEALTHY  # type: ignore[union-attr]
    )
    gateway = supervisor.snapshot().get("gateway")
    assert gateway is not None
    assert gateway.binary == str(wrapper)
    assert dict(gateway.endpoints)["listen_addr"].startswith("127.0.0.1:")
    assert gateway.health.version == "0.0-test"
    launched = json.loads(dump.read_text())
    argv, env = launched["argv"], launched["env"]
    assert argv[-8:] == [
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--grpc-bind",
        "127.0.0.1",
        "--grpc-port",
        "0",
    ]
    token = supervisor.tokens.admin_token
    assert env["PALYRA_ADMIN_TOKEN"] == token
    assert all(token not in arg for arg in argv)
    assert env["PALYRA_ADMIN_BOUND_PRINCIPAL"] == "admin:ops"
    assert env["PALYRA_ADMIN_REQUIRE_AUTH"] == "true"
    assert env["PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED"] == "true"
    assert env["PALYRA_STATE_ROOT"] == str(config.runtime_root)
    assert env["PALYRA_BROWSER_SERVICE_AUTH_TOKEN"] == supervisor.tokens.browser_token
    assert (config.runtime_root / "vault" / "backend.kind").read_text() == "encrypted_file"
    store = config.state_dir / "secrets" / "tokens.json"
    assert token in store.read_text()
    assert not any(
        token in path.read_text(errors="replace")
        for path in config.state_dir.rglob("*")
        if path.is_file() and path != store
    )
    node = supervisor.snapshot().get("node_host")
    assert node is not None and node.state is ServiceState.STOPPED and "not enrolled" in node.reason
    await supervisor.stop("gateway")
